"""NLU engines: the embedded one (default, in process) and Rasa over HTTP."""
