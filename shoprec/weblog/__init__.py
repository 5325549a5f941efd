"""The web-server access-log source: formats (``formats``), the line → event rules
(``parse``: routes, sessions, bots, assets, health checks) and the renderer the replayer and
the generator write with (``render``), so writers and the collector cannot drift apart."""
