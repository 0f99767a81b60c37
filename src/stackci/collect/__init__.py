"""collect-logs' feature package: the model of a collection, gathering it from the
engine, rendering it."""
