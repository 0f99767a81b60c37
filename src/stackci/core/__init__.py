"""The shared core every action stands on: inputs, outputs, run context, GitHub and
Docker access, retries, and the one module that speaks the runner's command syntax."""
