// The search box in the top bar: suggestions while typing, chosen with the arrow keys and Enter (or the mouse);
// Escape closes them, "/" anywhere jumps to the box. Without JavaScript the box is a plain form that submits to
// the results page, and Enter with no suggestion chosen still does exactly that.
(function () {
  "use strict";

  function init(form) {
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector(".suggestions");
    var url = form.getAttribute("data-suggest-url");
    if (!input || !list || !url || !window.fetch) return;
    var items = [], active = -1, timer = null, controller = null, shownFor = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      setActive(-1);
    }
    function open() {
      if (!items.length) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function setActive(index) {
      active = index;
      items.forEach(function (item, i) {
        item.el.setAttribute("aria-selected", i === index ? "true" : "false");
        item.el.classList.toggle("active", i === index);
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].el.id);
        items[index].el.scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function option(id, href, build) {
      var li = document.createElement("li");
      li.id = id;
      li.className = "suggestion";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var link = document.createElement("a");
      link.href = href;
      link.tabIndex = -1;
      build(link);
      li.appendChild(link);
      // Keep the focus in the box until the click lands, so blur does not close the list first.
      li.addEventListener("mousedown", function (event) { event.preventDefault(); });
      list.appendChild(li);
      items.push({el: li, url: href});
    }
    function render(data) {
      list.textContent = "";
      items = [];
      data.results.forEach(function (result, i) {
        option("search-suggestion-" + i, result.url, function (link) {
          var kind = document.createElement("span");
          kind.className = "badge kind";
          kind.textContent = result.kind_label;
          var title = document.createElement("span");
          title.className = "title";
          title.innerHTML = result.title_html;  // escaped by the server; only <mark> is markup
          link.appendChild(kind);
          link.appendChild(title);
          if (result.label) {
            var label = document.createElement("span");
            label.className = "badge " + (result.label === "removed" ? "removed" : "metric-" + result.label);
            label.textContent = result.label;
            link.appendChild(label);
          }
          var subtitle = document.createElement("span");
          subtitle.className = "subtitle";
          subtitle.textContent = result.subtitle;
          link.appendChild(subtitle);
        });
      });
      if (data.query) {
        option("search-suggestion-all", data.more_url, function (link) {
          link.className = "all";
          link.textContent = data.results.length ? "All results for “" + data.query + "”" : "Nothing by that name: search all text for “" + data.query + "”";
        });
      }
      setActive(-1);
      if (document.activeElement === input) open();
    }
    function suggest() {
      var q = input.value.trim();
      if (q === shownFor) { open(); return; }
      if (controller) controller.abort();
      if (!q) { shownFor = q; items = []; list.textContent = ""; close(); return; }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q), {signal: controller ? controller.signal : undefined, headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && input.value.trim() === q) { shownFor = q; render(data); }
        })
        .catch(function () { /* a newer keystroke aborted it, or the server is away: the form still submits */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 90);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        if (!items.length) return;
        event.preventDefault();
        if (list.hidden) open();
        setActive(active + 1 < items.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        if (!items.length) return;
        event.preventDefault();
        if (list.hidden) open();
        setActive(active > 0 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault();
          window.location.assign(items[active].url);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 120); });
    input.addEventListener("focus", function () {
      if (items.length && input.value.trim() === shownFor) open();
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        input.focus();
        input.select();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form.search-box"), init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
