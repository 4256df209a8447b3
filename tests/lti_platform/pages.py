"""HTML the platform serves: auto-posting forms and an LMS course page framing the tool."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

# What Canvas and Moodle put on the tool's iframe.
IFRAME_ALLOW = (
    "geolocation *; microphone *; camera *; midi *; encrypted-media *; autoplay *; "
    "clipboard-write *; display-capture *"
)

# 1EdTech "LTI Client Side postMessages" (lti-cs-pm v0.1) platform storage, as Canvas answers it:
# the listener lives on the top page, data is kept per (origin, key), replies go to event.source
# with event.origin as target origin. window.ltiStorage / window.ltiMessages let browser tests
# look at what the tool stored and sent.
STORAGE_SCRIPT = """
(function () {
  var store = {};
  window.ltiStorage = store;
  window.ltiMessages = [];
  var supported = [
    {subject: 'lti.capabilities'},
    {subject: 'lti.put_data', frame: '_parent'},
    {subject: 'lti.get_data', frame: '_parent'}
  ];
  window.addEventListener('message', function (event) {
    var d = event.data;
    if (!d || typeof d !== 'object' || typeof d.subject !== 'string') { return; }
    if (d.subject.indexOf('lti.') !== 0 || /\\.response$/.test(d.subject)) { return; }
    window.ltiMessages.push({origin: event.origin, data: d});
    function reply(msg) {
      msg.message_id = d.message_id;
      event.source.postMessage(msg, event.origin);
    }
    function fail(code, message) {
      reply({subject: d.subject + '.response', error: {code: code, message: message}});
    }
    if (!d.message_id) { fail('bad_request', 'message_id is required'); return; }
    var slot = event.origin + '\\u0000' + d.key;
    switch (d.subject) {
      case 'lti.capabilities':
        reply({subject: 'lti.capabilities.response', supported_messages: supported});
        break;
      case 'lti.put_data':
        if (!d.key) { fail('bad_request', 'key is required'); break; }
        if (d.value === undefined || d.value === null) {
          delete store[slot];
        } else {
          store[slot] = String(d.value);
        }
        reply({subject: 'lti.put_data.response', key: d.key, value: d.value});
        break;
      case 'lti.get_data':
        if (!d.key) { fail('bad_request', 'key is required'); break; }
        if (Object.prototype.hasOwnProperty.call(store, slot)) {
          reply({subject: 'lti.get_data.response', key: d.key, value: store[slot]});
        } else {
          reply({subject: 'lti.get_data.response', key: d.key,
                 error: {code: 'bad_request', message: 'no value stored for key ' + d.key}});
        }
        break;
      default:
        fail('unsupported_subject', 'unsupported subject ' + d.subject);
    }
  });
})();
"""


def _hidden_inputs(fields: Mapping[str, str]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items()
    )


def auto_post_form(action: str, fields: Mapping[str, str], title: str = "Redirecting") -> str:
    """A page that POSTs `fields` to `action` as it loads (how platforms hand over tokens)."""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body>
<form id="lti_form" method="post" action="{escape(action)}">
{_hidden_inputs(fields)}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.getElementById('lti_form').submit();</script>
</body></html>
"""


def course_page(
    course: int, login_url: str, login_params: Mapping[str, str], storage: bool
) -> str:
    """An LMS course page: the tool in an iframe named "tool", launched by a form aimed at it."""
    script = f"<script>{STORAGE_SCRIPT}</script>" if storage else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Course {course}</title>{script}</head>
<body>
<h1>Course {course}</h1>
<iframe name="tool" id="tool" title="Tool" src="about:blank" allow="{IFRAME_ALLOW}"
        allowfullscreen style="width:100%;height:600px;border:0"></iframe>
<form id="launch_form" method="post" target="tool" action="{escape(login_url)}"
      style="display:none">
{_hidden_inputs(login_params)}
</form>
<script>
window.addEventListener('load', function () {{
  document.getElementById('launch_form').submit();
}});
</script>
</body></html>
"""


def content_added_page(items: list[dict], msg: str | None, errormsg: str | None) -> str:
    """The page a platform shows after a deep-linking response was accepted."""
    lines = "".join(f"<li>{escape(str(i.get('title') or i.get('type')))}</li>" for i in items)
    notes = ""
    if msg:
        notes += f'<p class="msg">{escape(msg)}</p>'
    if errormsg:
        notes += f'<p class="errormsg">{escape(errormsg)}</p>'
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Content added</title></head>
<body><h1>Content added</h1>{notes}<ul>{lines}</ul></body></html>
"""
