// The module card form's facilitator search: type a part of a name, tick the person, and the
// form keeps everything typed (no page change). Progressive enhancement: without this script
// the "Choose a facilitator" button saves the draft and opens the picker page, which answers
// the same search as JSON here. Names are set as text, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("facilitator-search");
  if (!box || !window.fetch) { return; }
  var input = document.getElementById("facilitator-search-q");
  var list = document.getElementById("facilitator-search-found");
  var fieldset = box.closest("fieldset");
  var timer = null;
  var asked = 0;
  box.hidden = false;

  function ticked(id) {
    return fieldset.querySelector("input[name=facilitator_ids][value='" + id + "']");
  }

  function add(person) {
    var existing = ticked(person.id);
    if (existing) { existing.checked = true; return; }
    var label = document.createElement("label");
    label.className = "choice";
    var tick = document.createElement("input");
    tick.type = "checkbox";
    tick.name = "facilitator_ids";
    tick.value = String(person.id);
    tick.checked = true;
    var name = document.createElement("span");
    name.textContent = person.name;
    label.appendChild(tick);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(name);
    var none = document.getElementById("facilitators-none");
    if (none) { none.remove(); }
    fieldset.insertBefore(label, document.getElementById("facilitators-hint"));
  }

  function show(people) {
    list.textContent = "";
    if (!people.length) {
      var none = document.createElement("li");
      none.textContent = box.dataset.none;
      list.appendChild(none);
      return;
    }
    people.forEach(function (person) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = box.dataset.add + ": " + person.name;
      button.addEventListener("click", function () { add(person); item.remove(); });
      item.appendChild(button);
      if (person.email) {
        var email = document.createElement("span");
        email.className = "muted";
        email.textContent = " " + person.email;
        item.appendChild(email);
      }
      list.appendChild(item);
    });
  }

  function search() {
    var query = input.value.trim();
    if (!query) { list.textContent = ""; return; }
    var mine = ++asked;
    var url = box.dataset.url + (box.dataset.url.indexOf("?") < 0 ? "?" : "&") +
      "q=" + encodeURIComponent(query);
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (found && mine === asked) {
          show(found.people.filter(function (p) { return !ticked(p.id) || !ticked(p.id).checked; }));
        }
      })
      .catch(function () { /* the picker page still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); search(); }
  });
})();
