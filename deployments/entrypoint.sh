#!/bin/sh
# Entry point of the seedbank image: one image, several roles, picked by the first argument.
#   prefect-worker [args]  Prefect worker of the Kubernetes work pool (healthcheck on :8080)
#   celery-worker [args]   Celery batch worker (pass -n <class>@%h and -Q <queues>)
#   seed_data [args]       the CLI (the Argo CD PostSync hook runs `seed_data post-sync`)
#   anything else          run as given (flow-run Jobs run `prefect flow-run execute`)
# `exec` hands PID 1 to the process: Prefect and Celery handle SIGTERM themselves.
set -eu

case "${1:-}" in
  prefect-worker)
    shift
    exec prefect worker start --type kubernetes --pool "${SEEDBANK_WORK_POOL:-seedbank-k8s}" \
      --with-healthcheck "$@"
    ;;
  celery-worker)
    shift
    exec celery -A seedbank.worker.celery_app worker --loglevel INFO "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
