#!/bin/sh
# As the public image's entrypoint: options alone run redis-server with them, and a
# redis-server without a config file listens for other containers (protected mode off),
# whatever `command:` the compose file gives.
set -eu
case ${1:-} in -*) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ]; then
  case ${2:-} in
    ""|-*) shift; set -- redis-server --protected-mode no "$@" ;;
  esac
fi
exec "$@"
