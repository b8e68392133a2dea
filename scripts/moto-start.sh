# Sourced by scripts/demo.sh and scripts/bench.sh: starts moto_server (installed by
# scripts/moto-env.sh) on a free loopback port, stops it when the script exits, and points the
# AWS SDK at it with throw-away credentials. No AWS account is ever touched.
#
# RUNNING: how many tasks every ECS service reports running (the environment's desired count, so
# services become stable). moto's other settings where it diverges from AWS: the AWS-managed IAM
# policies (the ECS task execution role attaches one); ACM certificates issued after a second, not
# a minute.
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MOTO_ECS_SERVICE_RUNNING="${RUNNING:-2}" MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ACM_VALIDATION_WAIT=1 \
  "$CAIRN_MOTO_SERVER" -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
echo "== moto_server $MOTO_VERSION on 127.0.0.1:$PORT"

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
