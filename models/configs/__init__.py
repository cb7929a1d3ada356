"""Training configs (Python files run by ``fastcodec train`` and ``fastcodec eval``;
``fastcodec configs`` lists them)."""
