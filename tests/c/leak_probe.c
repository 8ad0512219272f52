/* Proves that the ASan run would see a leak of the library's allocations: this program opens a
 * destination and never frees it. run.sh expects LeakSanitizer to report it (and fail the
 * program); a clean exit would mean leak detection is not working. */
#include <stdio.h>

#include "openstack_dest.h"

int main(void) {
  os_dest *d = os_open("openstack://probe/?auth-username=u&auth-password=p&openstack-tenant-name=t"
                       "&openstack-domain-name=Default&openstack-authuri=http://127.0.0.1:9/v3");
  if (!d) {
    printf("leak_probe: os_open failed: %s\n", os_last_error_message());
    return 3;
  }
  d = NULL; /* leaked on purpose */
  return 0;
}
