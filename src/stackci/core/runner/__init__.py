"""The runner protocol: inputs, outputs, the job summary, the run context, errors and
each action's manifest. It imports nothing of Docker, GitHub or SMTP; of StackCI's
own layers only `core.text`."""
