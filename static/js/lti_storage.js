// LTI platform storage (1EdTech "LTI Client Side postMessages"): keep the login state in the
// LMS window, because a browser that blocks third-party cookies drops ours inside the iframe.
(function () {
  "use strict";
  var box = document.getElementById("lti-storage");
  if (!box) { return; }
  var mode = box.dataset.mode;               // "put" at login, "get" at launch
  var targetName = box.dataset.target;       // lti_storage_target from the login request
  var platformOrigin = box.dataset.origin;   // the OIDC auth endpoint's origin (spec: targetOrigin)
  var key = box.dataset.key;
  var done = false;

  function frameNamed(name) {
    var parent = window.parent !== window ? window.parent : window.opener;
    if (!parent) { return null; }
    if (!name || name === "_parent") { return parent; }
    try { return parent.frames[name] || parent; } catch (e) { return parent; }
  }

  function finish(value) {
    if (done) { return; }
    done = true;
    if (mode === "put") {
      window.location.replace(box.dataset.next);
    } else {
      var form = document.getElementById("lti-storage-form");
      if (value) { form.elements.lti_storage_value.value = value; }
      form.submit();
    }
  }

  function send(frame, message, origin) {
    try { frame.postMessage(message, origin); return true; } catch (e) { return false; }
  }

  function store(frameName) {
    var frame = frameNamed(frameName);
    var id = "lti-" + Math.random().toString(36).slice(2);
    window.addEventListener("message", function (event) {
      var data = event.data || {};
      if (event.origin !== platformOrigin || data.message_id !== id) { return; }
      if (data.subject === "lti.put_data.response") { finish(null); }
      if (data.subject === "lti.get_data.response") { finish(data.error ? null : data.value); }
    });
    var message = mode === "put"
      ? {subject: "lti.put_data", message_id: id, key: key, value: box.dataset.value}
      : {subject: "lti.get_data", message_id: id, key: key};
    if (!frame || !send(frame, message, platformOrigin)) { finish(null); }
  }

  // Ask what the platform supports first (Canvas sends lti_storage_target even on mobile,
  // where storage does not work); without an answer in time, carry on without it.
  var capabilitiesId = "lti-cap-" + Math.random().toString(36).slice(2);
  var asked = false;
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.subject !== "lti.capabilities.response" || data.message_id !== capabilitiesId || asked) { return; }
    if (event.source !== frameNamed("_parent")) { return; }  // only the LMS window may answer
    asked = true;
    var wanted = mode === "put" ? "lti.put_data" : "lti.get_data";
    var entry = (data.supported_messages || []).filter(function (m) { return m.subject === wanted; })[0];
    if (entry) { store(entry.frame || targetName); } else { finish(null); }
  });
  var parent = frameNamed("_parent");
  if (!parent || !send(parent, {subject: "lti.capabilities", message_id: capabilitiesId}, "*")) {
    store(targetName);
  }
  setTimeout(function () { if (!asked) { asked = true; store(targetName); } }, 700);
  setTimeout(function () { finish(null); }, 3000);
})();
