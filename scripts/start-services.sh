#!/usr/bin/env bash
# Start PostgreSQL and Redis on 127.0.0.1 if they are down (no systemd here).
# A service that is installed but will not start stops the run with a message saying so;
# a service that is not installed is an error under CI=true and a note otherwise.
set -u
ci=false
[ "${CI:-}" = "true" ] && ci=true
status=0
wait_pg="${START_WAIT_SECONDS:-30}"
wait_redis="${START_WAIT_SECONDS:-10}"

need() {  # need NAME: report a missing or dead service; fatal under CI
  echo "start-services: $1" >&2
  if $ci; then status=1; fi
}

if ! command -v pg_isready >/dev/null; then
  need "PostgreSQL is not installed (pg_isready not found)"
elif ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    version="$(ls /etc/postgresql | head -1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
      || echo "start-services: pg_ctlcluster $version main start failed" >&2
    for _ in $(seq 1 "$wait_pg"); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "start-services: PostgreSQL is down on 127.0.0.1:5432 and could not be started" >&2
    status=1
  fi
fi

if ! command -v redis-server >/dev/null; then
  need "Redis is not installed (redis-server not found)"
elif ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    || echo "start-services: redis-server failed to start" >&2
  for _ in $(seq 1 "$wait_redis"); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "start-services: Redis is down on 127.0.0.1:6379 and could not be started" >&2
    status=1
  fi
fi
exit $status
