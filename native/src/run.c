/* hivelet __run PLANFILE: a foreground container without a monitor
 * (CONTRACT.md). */
#define _GNU_SOURCE
#include "hivelet.h"

#include <stdio.h>

int hl_run_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("hivelet: __run: not implemented yet\n", stderr);
  return 125;
}
