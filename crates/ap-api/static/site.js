// Search as you type on the browse page (progressive enhancement: without JavaScript the
// search form submits as usual). After a pause in typing, the page for the new words is
// fetched from this server and its results and categories replace the shown ones; the
// address bar follows, so the page can be reloaded or shared. The count of matches stays
// the same live region, its text updated, so screen readers announce it. A failed fetch
// keeps what is shown.
(function () {
  "use strict";
  var form = document.querySelector("form.browse");
  var box = document.getElementById("q");
  if (!form || !box) {
    return;
  }
  var PAUSE_MS = 250;
  var timer = null;
  var pending = null;
  var shown = box.value;

  function swapCategories(doc) {
    var fresh = doc.querySelector("nav.categories");
    var old = document.querySelector("nav.categories");
    if (fresh && old) {
      old.replaceWith(document.importNode(fresh, true));
    }
  }

  // The results section's children are replaced around its status line, which stays.
  function swapResults(doc) {
    var fresh = doc.querySelector("section.results");
    var old = document.querySelector("section.results");
    if (!fresh || !old) {
      return;
    }
    var status = old.querySelector("[role=status]");
    var freshStatus = fresh.querySelector("[role=status]");
    Array.prototype.slice.call(old.childNodes).forEach(function (child) {
      if (child !== status) {
        old.removeChild(child);
      }
    });
    var before = true;
    Array.prototype.slice.call(fresh.childNodes).forEach(function (child) {
      if (status && child === freshStatus) {
        before = false;
        status.textContent = freshStatus.textContent;
        return;
      }
      var node = document.importNode(child, true);
      if (status && before) {
        old.insertBefore(node, status);
      } else {
        old.appendChild(node);
      }
    });
  }

  function refresh() {
    if (pending) {
      pending.abort();
      pending = null;
    }
    if (box.value === shown) {
      return;
    }
    var url = "/?" + new URLSearchParams(new FormData(form)).toString();
    var asked = box.value;
    var request = new AbortController();
    pending = request;
    fetch(url, { signal: request.signal, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) {
          throw new Error("status " + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        if (pending !== request) {
          return;
        }
        pending = null;
        var doc = new DOMParser().parseFromString(html, "text/html");
        swapResults(doc);
        swapCategories(doc);
        document.title = doc.title;
        history.replaceState(null, "", url);
        shown = asked;
      })
      .catch(function () {});
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, PAUSE_MS);
  });
})();
