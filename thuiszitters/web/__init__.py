"""The web application of the case system: for now its skeleton and the login (docs/people.md, "Login").

:func:`thuiszitters.web.app.create_app` builds it; ``thuiszitters-web`` runs it (:mod:`thuiszitters.web.__main__`).
"""
