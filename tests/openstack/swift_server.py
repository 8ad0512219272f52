#!/usr/bin/python3
"""Run one Swift server (or the container-updater) from a config kept outside /etc/swift.

usage: swift_server.py SWIFT_DIR KIND CONF_FILE
  KIND: proxy | account | container | object | container-updater

Swift reads swift.conf from a fixed directory; set_swift_dir() points it at SWIFT_DIR, and the
storage policies and constraints are reloaded from there. Swift normally logs to syslog and
closes stdio; here its log records go to stderr instead (the test bed sends stderr to a file).
"""
import logging
import sys


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    swift_dir, kind, conf_file = sys.argv[1:4]

    from swift.common import utils
    utils.set_swift_dir(swift_dir)
    from swift.common import constraints, storage_policy
    storage_policy.reload_storage_policies()
    constraints.reload_constraints()

    class StderrHandler(logging.StreamHandler):
        """Stands in for Swift's syslog handler: same records, written to stderr."""

        def __init__(self, *args, **kwargs):
            logging.StreamHandler.__init__(self, sys.stderr)

    def capture_stdio(logger, **kwargs):
        # Keep stdout/stderr open (they are the log file); only log uncaught exceptions.
        sys.excepthook = lambda *exc_info: logger.critical(
            'UNCAUGHT EXCEPTION', exc_info=exc_info)

    utils.ThreadSafeSysLogHandler = StderrHandler
    utils.capture_stdio = capture_stdio

    if kind == 'container-updater':
        from swift.common.daemon import run_daemon
        from swift.container.updater import ContainerUpdater
        run_daemon(ContainerUpdater, conf_file, once=False, verbose=False)
        return 0

    from swift.common import wsgi
    wsgi.capture_stdio = capture_stdio
    sections = {'proxy': 'proxy-server', 'account': 'account-server',
                'container': 'container-server', 'object': 'object-server'}
    if kind not in sections:
        sys.stderr.write('unknown server kind %r\n' % kind)
        return 2
    kwargs = {}
    if kind == 'object':
        from swift.obj import server as obj_server
        kwargs['global_conf_callback'] = obj_server.global_conf_callback
    return wsgi.run_wsgi(conf_file, sections[kind], **kwargs)


if __name__ == '__main__':
    sys.exit(main())
