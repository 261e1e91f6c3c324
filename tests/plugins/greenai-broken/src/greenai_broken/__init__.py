"""A plugin that fails at import, as a plugin with a missing dependency or a bug would."""

raise RuntimeError("greenai-broken is broken on purpose (a test plugin)")
