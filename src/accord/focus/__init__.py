"""Focus-area modules: the domain work of each focus area, on top of the exchange, policy, ledger and work plan.
Each package's `register(registry)` adds its message kinds and indicators; `accord.bootstrap` calls it."""
