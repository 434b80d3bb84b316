"""Other teams' CI: the /testing calls of `serve --ephemeral` (accounts, reset, injected faults)
and a pytest plugin that starts the service and gives each test an account."""
