#!/bin/sh
# `java` as LocalStack's DynamoDB provider calls it (PATH and JAVA_HOME point here): the JDK found at setup
# time, with two arguments changed. `-jar .../DynamoDBLocal.jar` runs through LoopbackDynamoDBLocal, which
# binds DynamoDB Local to 127.0.0.1; LocalStack's `-javaagent:.../ddb-local-loader-*.jar` (a patch for more
# than 20 global secondary indexes, downloaded from GitHub) is left out, since nothing offline provides it.
# The JVM is killed when LocalStack dies (setpriv --pdeathsig, where util-linux has it): none is left behind.
REAL_JAVA="@REAL_JAVA@"
RUNNER_JAR="@RUNNER_JAR@"
count=$#
while [ "$count" -gt 0 ]; do
  argument=$1
  shift
  count=$((count - 1))
  case $argument in
    -javaagent:*ddb-local-loader*) ;;
    -jar)
      jar=$1
      shift
      count=$((count - 1))
      case $jar in
        *DynamoDBLocal.jar) set -- "$@" -cp "$RUNNER_JAR:$jar" LoopbackDynamoDBLocal ;;
        *) set -- "$@" -jar "$jar" ;;
      esac
      ;;
    *) set -- "$@" "$argument" ;;
  esac
done
if command -v setpriv >/dev/null 2>&1; then
  exec setpriv --pdeathsig KILL -- "$REAL_JAVA" "$@"
fi
exec "$REAL_JAVA" "$@"
