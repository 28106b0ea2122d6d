"""The Temporal side of the application: connecting, the data converter and payload codec, the codec server,
and building and running the worker."""
