// Evidence uploads (portfolio and TeachHub): check a file's size and type before sending it,
// then send with a progress bar and the button disabled until the answer comes.
// Progressive enhancement: without this script the form posts as usual and the server checks
// the same limits. Messages come translated from the form's data-* attributes.
(function () {
  "use strict";

  // "image/*", "application/pdf": does the file's type match the input's accept list?
  function accepted(input, file) {
    var accept = (input.getAttribute("accept") || "").split(",");
    if (!accept[0] || !file.type) { return true; } // unknown type: the server decides
    return accept.some(function (rule) {
      rule = rule.trim();
      if (rule.slice(-2) === "/*") { return file.type.indexOf(rule.slice(0, -1)) === 0; }
      return rule === file.type;
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-upload]"), function (form) {
    var input = form.querySelector("input[type=file]");
    var error = form.querySelector("[data-upload-error]");
    var progress = form.querySelector(".upload-progress");
    var buttons = form.querySelectorAll("button[type=submit], button:not([type])");
    if (!input || !error) { return; }

    function say(message) {
      // One message at a time: a new check replaces the old one, a good file clears it.
      error.textContent = message || "";
      error.hidden = !message;
      if (message) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }

    function check() {
      var file = input.files && input.files[0];
      if (!file) { say(""); return true; }
      if (file.size > parseInt(form.dataset.maxBytes, 10)) { say(form.dataset.tooLarge); return false; }
      if (!accepted(input, file)) { say(form.dataset.badType); return false; }
      say("");
      return true;
    }

    function busy(on) {
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = on; });
      form.setAttribute("aria-busy", on ? "true" : "false");
    }

    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); input.focus(); return; }
      var file = input.files && input.files[0];
      if (!file || !window.FormData || !window.XMLHttpRequest || !progress) {
        busy(true); // a plain post: at least no second click while it goes
        return;
      }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      progress.hidden = false;
      progress.value = 0;
      progress.setAttribute("aria-label", form.dataset.sending);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { progress.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 413) {
          // Over the server's limit after all: say so by the field and keep what was typed,
          // rather than leave the form for the error page.
          progress.hidden = true;
          busy(false);
          say(form.dataset.tooLarge);
          return;
        }
        // The answer is a whole page (the card after a redirect, or the form sent back with
        // its messages, or the 413 page): show it as a plain post would have.
        var url = xhr.responseURL;
        document.open();
        document.write(xhr.responseText);
        document.close();
        if (url && xhr.status < 400) { window.history.replaceState(null, "", url); }
      });
      xhr.addEventListener("error", function () {
        progress.hidden = true;
        busy(false);
        say(form.dataset.failed);
      });
      busy(true);
      xhr.send(new FormData(form));
    });
  });
}());
