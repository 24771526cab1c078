# The lab's sandbox as a container. Inside the container it must listen on all interfaces for the port
# mapping to work; docker-compose.yml publishes it on the host's 127.0.0.1 only.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lab ./lab
COPY checks ./checks
COPY tui ./tui
COPY exercises ./exercises
# Editable: the lab reads exercises/ and their solutions from the source tree.
RUN pip install --no-cache-dir -e .
ENV LAB_STATE_DIR=/state
EXPOSE 4566
CMD ["python", "-m", "lab.sandbox.server", "--host", "0.0.0.0", "--allow-remote-bind", "--port", "4566", "--state-dir", "/state", "--foreground"]
