"""Widget templates: ChatKit Studio ``.widget`` files managed in the admin, each a tool for the agent.

* :mod:`.definition`: parse and validate a ``.widget`` file with the SDK's own ``WidgetTemplate``.
* :mod:`.templates`: save with versions, roll back, load files (``manage.py loadwidgets``).
* :mod:`.tools`: every enabled template as a ``widget_<slug>`` tool.
* :mod:`.actions`: the actions the shipped templates send (``widget.choose``, ``widget.submit``).
* ``data/``: the templates that ship with the app, and the approval card.
"""
