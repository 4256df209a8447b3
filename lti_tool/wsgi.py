"""The WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py lti_tool.wsgi:app`.

The score worker never runs here, whatever gradebook.worker.in_process says: every gunicorn
worker would run one. It runs as its own process, `lti-tool worker`.
"""

from lti_tool import create_app

app = create_app()
