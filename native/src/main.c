/* main() of the hivelet binary (NativeAOT CustomNativeMain, CONTRACT.md).
 *
 * The per-container entry points are plain C and dispatched here before the
 * .NET runtime exists: it initialises lazily on the first call into managed
 * code, so a monitor, an exec or a run never starts it and stays small. */
#define _GNU_SOURCE
#include "hivelet.h"

#include <string.h>

int main(int argc, char **argv) {
  if (argc >= 2 && argv[1][0] == '_' && argv[1][1] == '_') {
    if (!strcmp(argv[1], "__monitor"))
      return hl_monitor_main(argc, argv);
    if (!strcmp(argv[1], "__exec"))
      return hl_exec_main(argc, argv);
    if (!strcmp(argv[1], "__run"))
      return hl_run_main(argc, argv);
  }
  int code = hl_fastrun_main(argc, argv);
  if (code >= 0)
    return code;
  return __managed__Main(argc, argv);
}
