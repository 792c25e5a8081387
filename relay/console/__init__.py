"""The web console (shared/spec/console.md): served by the relay on its HTTP port.

The console is plain HTML, CSS and JavaScript modules in ``static/``, run by the browser
as they are (no build step). It speaks only the public contract: the stream's JSON
sub-protocol with first-frame authentication, and the HTTP API. This package serves its
files and the few things it reads to find its way:

- :mod:`relay.console.policy`: where the stream is for a browser, and the security
  headers of every console response (pure);
- :mod:`relay.console.catalog`: the problem sentences in French and English and the
  reference lists (airports, countries, currencies, the model's choices), built from the
  contract's own modules (pure);
- :mod:`relay.console.routes`: the aiohttp routes (``GET /``, ``/console/...``).
"""

from relay.console.policy import is_public_path
from relay.console.routes import add_console_routes

__all__ = ["add_console_routes", "is_public_path"]
