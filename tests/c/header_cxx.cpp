// Links a C++ program against the library through the public header: the declarations must have
// C linkage (extern "C") for this to link. Prints the version and exits 0 when it matches.
#include "openstack_dest.h"

#include <cstdio>
#include <cstring>

int main() {
  const char *v = os_version();
  const char *n = os_status_name(OS_ERR_NOT_FOUND);
  os_free(nullptr);
  if (!v || std::strcmp(v, OPENSTACK_DEST_VERSION) != 0 || !n || std::strcmp(n, "OS_ERR_NOT_FOUND") != 0) {
    std::printf("C++: unexpected version or status name\n");
    return 1;
  }
  std::printf("C++: libopenstack_dest %s\n", v);
  return 0;
}
