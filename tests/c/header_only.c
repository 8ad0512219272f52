/* Compiles the public header alone, twice (include guard), as C99 with -Wpedantic and as C++.
 * run.sh builds it with: gcc -std=c99 -Wall -Wextra -Wpedantic -Werror, and g++ -Wall -Wextra -Werror. */
#include "openstack_dest.h"
#include "openstack_dest.h"

/* Something to compile, so the translation unit is not empty whatever the header holds. */
typedef os_status osd_header_only_status;
