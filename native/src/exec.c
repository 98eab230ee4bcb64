/* hivelet __exec PLANFILE [PID]: join a running container (CONTRACT.md). */
#define _GNU_SOURCE
#include "hivelet.h"

#include <stdio.h>

int hl_exec_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("hivelet: __exec: not implemented yet\n", stderr);
  return 125;
}
