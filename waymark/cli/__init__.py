"""The `waymark` command: one module per command group (`build`, `demo`, `generate`, `query`,
`journeys`, `syncs`), the argument types they share (`args`) and the one-line error mechanism
(`errors`). The top layer: nothing in Waymark imports it."""
