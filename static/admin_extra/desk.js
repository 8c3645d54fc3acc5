/* Keyboard shortcuts of the desk (docs/admin-desk.md); loaded on every admin page.
 *
 * An element with data-desk-key="x" is activated by the key x: a field is focused, anything
 * else is clicked (a link, a submit button, a <summary>). In the review queue's list, j and k
 * move a highlight through the rows, o opens the highlighted row and x ticks its checkbox.
 * Keys do nothing while the person is typing in a field or holds a modifier. A field with
 * data-desk-submit="id" submits with the button of that id when Enter is pressed in it.
 *
 * Widgets that third-party scripts draw without an accessible name (the search box of an
 * autocomplete, the two halves of a date-and-time field, the rich-text editor) get the name of
 * the field they belong to, now and whenever they are drawn again.
 */
(function () {
  "use strict";

  function isTyping(target) {
    return Boolean(
      target.closest &&
        target.closest("input, textarea, select, [contenteditable], .select2-container")
    );
  }

  function activate(element) {
    if (element.matches("input, select, textarea")) {
      element.focus();
    } else {
      element.click();
    }
  }

  var rows = [];
  var current = -1;

  function moveTo(index) {
    if (!rows.length) {
      return;
    }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) {
      rows[current].classList.remove("desk-current");
    }
    current = index;
    var row = rows[current];
    row.classList.add("desk-current");
    var link = row.querySelector("a.desk-row-link") || row.querySelector("a");
    if (link) {
      link.focus();
    }
    row.scrollIntoView({ block: "nearest" });
  }

  function rowKey(key) {
    if (!document.body.classList.contains("desk-queue") || !rows.length) {
      return false;
    }
    var focusedRow = document.activeElement && document.activeElement.closest("#result_list tbody tr");
    if (focusedRow) {
      current = rows.indexOf(focusedRow);
    }
    if (key === "j") {
      moveTo(current + 1);
    } else if (key === "k") {
      moveTo(current - 1);
    } else if (key === "o" && current >= 0) {
      var link = rows[current].querySelector("a.desk-row-link");
      if (link) {
        link.click();
      }
    } else if (key === "x" && current >= 0) {
      var box = rows[current].querySelector("input.action-select");
      if (box) {
        box.click();
      }
    } else {
      return false;
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (event.key === "Enter" && target.dataset && target.dataset.deskSubmit) {
      var button = document.getElementById(target.dataset.deskSubmit);
      if (button) {
        event.preventDefault();
        button.click();
      }
      return;
    }
    if (event.key === "Escape" && isTyping(target) && target.blur) {
      target.blur();
      return;
    }
    if (isTyping(target)) {
      return;
    }
    if (rowKey(event.key)) {
      event.preventDefault();
      return;
    }
    var selector = '[data-desk-key="' + CSS.escape(event.key) + '"]';
    var element = document.querySelector(selector);
    if (element) {
      event.preventDefault();
      activate(element);
    }
  });

  function rowLabel(element) {
    var row = element.closest(".form-row, .flex-container, td, .desk-schedule");
    var label = row && row.querySelector("label");
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function labelOf(field) {
    if (field && field.id) {
      var label = document.querySelector('label[for="' + CSS.escape(field.id) + '"]');
      if (label) {
        return label.textContent.replace(/:\s*$/, "").trim();
      }
    }
    return field ? rowLabel(field) : "";
  }

  function name(element, text) {
    if (text && !element.hasAttribute("aria-label") && !element.hasAttribute("aria-labelledby")) {
      element.setAttribute("aria-label", text);
    }
  }

  function nameWidgets() {
    document.querySelectorAll(".select2-search__field").forEach(function (search) {
      var container = search.closest(".select2-container");
      var select = container && container.previousElementSibling;
      name(search, labelOf(select && select.matches("select") ? select : container));
    });
    // A single-choice autocomplete is named by the text of its current choice only, which is
    // nothing while it is empty (an article with no lead image yet): its label comes first.
    document.querySelectorAll(".select2-selection--single[aria-labelledby]").forEach(function (box) {
      var container = box.closest(".select2-container");
      var select = container && container.previousElementSibling;
      var label = select && select.id && document.querySelector('label[for="' + CSS.escape(select.id) + '"]');
      if (!label) {
        return;
      }
      label.id = label.id || select.id + "-label";
      var shown = box.querySelector(".select2-selection__rendered[role='textbox']");
      if (shown) {
        name(shown, labelOf(select));
      }
      var ids = box.getAttribute("aria-labelledby").split(/\s+/);
      if (ids.indexOf(label.id) === -1) {
        box.setAttribute("aria-labelledby", [label.id].concat(ids).join(" "));
      }
    });
    document.querySelectorAll("p.datetime input").forEach(function (input) {
      if (!input.labels.length) {
        var part = input.classList.contains("vTimeField") ? "time" : "date";
        name(input, rowLabel(input) + " (" + part + ")");
      }
    });
    document.querySelectorAll("[contenteditable='true']").forEach(function (editor) {
      name(editor, rowLabel(editor));
    });
    document.querySelectorAll(".tabular td :is(input, select, textarea)").forEach(function (field) {
      if (field.type === "hidden" || field.labels.length) {
        return;
      }
      var cell = field.closest("td");
      var header = cell.closest("table").querySelectorAll("thead th")[cell.cellIndex];
      name(field, header ? header.textContent.trim() : "");
    });
  }

  var naming = null;
  function nameSoon() {
    if (naming === null) {
      naming = window.setTimeout(function () {
        naming = null;
        nameWidgets();
      }, 50);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    rows = Array.prototype.slice.call(document.querySelectorAll("#result_list tbody tr"));
    nameWidgets();
    new MutationObserver(nameSoon).observe(document.body, { childList: true, subtree: true });
  });
  window.addEventListener("load", nameWidgets);
})();
