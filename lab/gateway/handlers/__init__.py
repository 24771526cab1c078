"""One module per concern of the gateway; `lab.gateway.app` puts them in order."""
