"""The finance feedback engine's API, cut down to what the staging pipeline checks."""
