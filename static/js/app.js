// Small behaviours without inline scripts: account switch, copy buttons.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select) select.form.submit();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { source.select && source.select(); });
    } else {
      if (source.select) source.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  // htmx answers that are not swapped (403, a CSRF failure, 5xx, no network) would
  // otherwise change nothing on the page: say what happened, in a live region
  function problem(text) {
    var box = document.getElementById("htmx-problem");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 403) {
      problem("That was refused: your role does not allow it, or the page's security token expired. Reload the page and try again.");
    } else if (status >= 500) {
      problem("Something went wrong on the server (" + status + "); nothing was changed. Try again in a moment.");
    } else {
      problem("The request was refused (" + status + "). Reload the page and try again.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    problem("The server could not be reached; nothing was changed. Check your connection and try again.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-problem");
    if (box) box.hidden = true;
  });
  // Reviewing with the keyboard (review item and queue pages). Never while typing.
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") !== null;
  }
  function announce(text) {
    var live = document.getElementById("keys-live");
    if (live) live.textContent = text;
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts]")) {
      var dialog = document.getElementById("shortcuts");
      if (dialog && dialog.showModal) dialog.showModal();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    var panel = document.getElementById("decision-panel");
    var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr[data-href]"));
    if (key === "?") {
      var dialog = document.getElementById("shortcuts");
      if (dialog && dialog.showModal && !dialog.open) { dialog.showModal(); event.preventDefault(); }
      return;
    }
    if (rows.length && (key === "j" || key === "k")) {
      var current = rows.indexOf(document.activeElement.closest ? document.activeElement.closest("tr") : null);
      var next = key === "j" ? Math.min(rows.length - 1, current + 1) : Math.max(0, current - 1);
      rows[next].focus();
      announce("Item " + (next + 1) + " of " + rows.length);
      event.preventDefault();
      return;
    }
    if (rows.length && key === "Enter" && document.activeElement.dataset && document.activeElement.dataset.href) {
      window.location.href = document.activeElement.dataset.href;
      return;
    }
    if (!panel) return;
    if (key === "n" && panel.dataset.next) {
      announce("Next item");
      window.location.href = panel.dataset.next;
      event.preventDefault();
      return;
    }
    var buttons = { a: "approve", r: "reject" };
    if (buttons[key]) {
      var button = panel.querySelector("button[value=" + buttons[key] + "]");
      if (!button) return;
      var reason = panel.querySelector("textarea[name=reason]");
      event.preventDefault();
      if (reason && !reason.value.trim()) {
        reason.focus();
        announce("Give a reason first, then press " + key + " again (Escape leaves the field).");
        return;
      }
      button.click();
      return;
    }
    if (key === "e") {
      var rewrite = panel.querySelector("details.rewrite");
      if (!rewrite) return;
      rewrite.open = true;
      var content = rewrite.querySelector("textarea");
      if (content) content.focus();
      event.preventDefault();
    }
  });
  // Escape leaves a field, so the keys work again
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) event.target.blur();
  });
  // after a decision, focus moves to what comes next (the next item, or the message)
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "decision-panel") return;
    var target = document.getElementById("next-item") ||
      document.querySelector("#decision-panel [role=alert], #decision-panel [role=status]") ||
      document.querySelector("#decision-panel .errorlist");
    if (target) {
      if (!target.hasAttribute("tabindex") && target.tagName !== "A") target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();

// Whole table rows as links (runs list): a click anywhere on a row opens its page, except
// on a link or a control inside it; Ctrl/Cmd-click or a middle click opens a new tab.
(function () {
  "use strict";
  function open(row, event) {
    if (event.target.closest("a, button, input, select, textarea, label")) return;
    if (window.getSelection && String(window.getSelection())) return; // selecting text
    if (event.ctrlKey || event.metaKey || event.button === 1) window.open(row.dataset.href, "_blank");
    else window.location.href = row.dataset.href;
  }
  document.addEventListener("click", function (event) {
    var row = event.target.closest("table.runs tr[data-href]");
    if (row) open(row, event);
  });
  document.addEventListener("auxclick", function (event) {
    var row = event.target.closest("table.runs tr[data-href]");
    if (row && event.button === 1) open(row, event);
  });
})();

// The playground form: it survives a reload (kept in this tab's sessionStorage), shows what
// a blank field inherits from the chosen project, and Ctrl+Enter submits it.
(function () {
  "use strict";
  var SKIP = { csrfmiddlewaretoken: true, action: true };
  function storageKey(form) { return "railsite:form:" + form.dataset.persist; }
  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !SKIP[el.name] && el.type !== "submit" && el.type !== "button";
    });
  }
  function save(form) {
    var values = {};
    fields(form).forEach(function (el) { values[el.name] = el.value; });
    try { sessionStorage.setItem(storageKey(form), JSON.stringify(values)); } catch (e) { /* private mode */ }
  }
  function restore(form) {
    var values;
    try { values = JSON.parse(sessionStorage.getItem(storageKey(form)) || "null"); } catch (e) { values = null; }
    if (!values) return;
    // a form the server sent back with the submitted values (an error, a result) keeps them
    var filled = fields(form).some(function (el) { return el.tagName === "TEXTAREA" && el.value; });
    if (filled) return;
    fields(form).forEach(function (el) {
      if (!(el.name in values)) return;
      if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === values[el.name]; })) return;
      el.value = values[el.name];
      // a restored value inside the folded advanced fields unfolds them, as the server does
      var folded = el.value && el.type !== "hidden" && el.tagName !== "SELECT" && el.closest("details");
      if (folded) folded.open = true;
    });
  }
  function showInherited(form) {
    var source = document.getElementById("inherited-values");
    var project = form.elements.project;
    if (!source || !project) return;
    var inherited = JSON.parse(source.textContent)[project.value] || {};
    Object.keys(inherited).forEach(function (name) {
      var el = form.elements[name];
      if (!el) return;
      if (el.tagName === "SELECT") {
        if (el.options.length && el.options[0].value === "") el.options[0].text = "Default (" + inherited[name] + ")";
      } else {
        el.placeholder = inherited[name];
      }
    });
    var note = form.querySelector("[data-locked-projects]");
    if (note) note.hidden = note.dataset.lockedProjects.split(",").indexOf(project.value) === -1;
  }
  function setUp(root) {
    var forms = root.querySelectorAll ? root.querySelectorAll("form[data-persist]") : [];
    Array.prototype.forEach.call(forms, function (form) {
      restore(form);
      showInherited(form);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:afterSettle", function (event) { setUp(event.target); });
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.dataset.persist) save(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.dataset.persist) return;
    save(form);
    if (event.target.name === "project") showInherited(form);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-clear-form]");
    if (!button || !button.form) return;
    var form = button.form;
    fields(form).forEach(function (el) {
      if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.type !== "hidden") el.value = "";
    });
    try { sessionStorage.removeItem(storageKey(form)); } catch (e) { /* private mode */ }
    showInherited(form);
    form.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.form || (event.target.closest && event.target.closest("form"));
    if (!form || !form.dataset.ctrlEnter) return;
    var button = form.querySelector(form.dataset.ctrlEnter);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();
