"""The gateway's codec: AWS requests and answers in every protocol the gateway speaks, from botocore's models.

- `identify`: which service, region and operation an HTTP request is (identify, service_model, valid_region);
- `decode`: a request into the operation's input members, checked as the service checks it (decode_request,
  refusals), and an answer back into its output (decode_answer);
- `encode`: an operation's output into the answer (encode_output, add_output_headers);
- `errors`: AWS errors in the request's protocol (aws_error, encode_error, not_implemented, unknown_operation,
  invalid_region);
- `calls`: the codec around one call answered by a lab service API (answer, request_params, forwarded_output);
- `model`: botocore's operation models, cached (operation_model).
"""
