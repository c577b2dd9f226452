// sealdrop: progressive enhancement of the upload form and the receipt. The pages work without
// it; with it the reporter gets drag-and-drop, limits checked before any byte is sent, files
// sent in resumable pieces (tus 1.0.0, so that gateways with small body limits pass them and a
// dropped connection resumes by itself), one progress bar with speed across all pieces and
// files, a cancel button, and copy/download buttons on the receipt.
(function () {
  "use strict";

  var T = {};
  try {
    T = JSON.parse(document.getElementById("sealdrop-i18n").textContent);
  } catch (e) {
    T = {};
  }

  function fmt(key, vars) {
    var s = T[key] || key;
    Object.keys(vars || {}).forEach(function (k) {
      s = s.split("{" + k + "}").join(String(vars[k]));
    });
    return s;
  }

  function human(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function showProblems(box, problems) {
    var list = box.querySelector("ul");
    list.textContent = "";
    problems.forEach(function (p) {
      var li = el("li");
      if (p.target) {
        li.appendChild(el("a", { href: "#" + p.target }, p.text));
      } else {
        li.textContent = p.text;
      }
      list.appendChild(li);
    });
    box.hidden = problems.length === 0;
    if (problems.length) {
      box.focus();
    }
  }

  // How long a resumable upload keeps trying without a piece getting through, and the waits
  // between its tries.
  var RETRY_FOR_MS = 10 * 60 * 1000;
  var RETRY_DELAYS = [500, 1000, 2000, 4000, 8000, 15000];

  function initForm(form) {
    var input = document.getElementById("file");
    var drop = document.getElementById("drop");
    var chosen = document.getElementById("chosen");
    var problems = document.getElementById("problems");
    var progress = document.getElementById("progress");
    var bar = document.getElementById("bar");
    var text = document.getElementById("progress-text");
    var cancel = document.getElementById("cancel");
    var send = document.getElementById("send");
    var contact = document.getElementById("contact");
    var maxFiles = Number(form.dataset.maxFiles);
    var maxFile = Number(form.dataset.maxFileSize);
    var maxTotal = Number(form.dataset.maxSubmissionSize);
    var maxMessage = Number(form.dataset.maxMessageBytes);
    var contactFor = (form.dataset.contactRequired || "").split(" ");
    var pieceSize = Number(form.dataset.pieceSize) || 8 << 20;
    var uploadsBase = form.dataset.uploads || "/api/v1/uploads";
    var files = [];
    // The upload under way: its current request and retry timer, the uploads it created, and
    // its progress.
    var job = null;

    // Our own checks and error summary replace the browser's validation bubbles.
    form.noValidate = true;
    drop.classList.add("enhanced");
    drop.querySelector(".drop-hint").hidden = false;

    function limitProblems() {
      var out = [];
      var total = 0;
      if (files.length > maxFiles) {
        out.push({ target: "file", text: fmt("too_many", { count: files.length, limit: maxFiles }) });
      }
      files.forEach(function (f) {
        total += f.size;
        if (f.size > maxFile) {
          out.push({ target: "file", text: fmt("too_large", { name: f.name, size: human(f.size), limit: human(maxFile) }) });
        }
      });
      if (total > maxTotal) {
        out.push({ target: "file", text: fmt("total_too_large", { size: human(total), limit: human(maxTotal) }) });
      }
      return out;
    }

    function render() {
      chosen.textContent = "";
      files.forEach(function (f, i) {
        var li = el("li");
        li.appendChild(el("span", { class: "name" }, f.name));
        li.appendChild(el("span", { class: "size" }, human(f.size)));
        if (f.size > maxFile) {
          li.classList.add("over");
        }
        var remove = el("button", { type: "button", class: "secondary small", "aria-label": fmt("remove") + ": " + f.name }, fmt("remove"));
        remove.addEventListener("click", function () {
          files.splice(i, 1);
          render();
          input.focus();
        });
        li.appendChild(remove);
        chosen.appendChild(li);
      });
      chosen.hidden = files.length === 0;
      showProblems(problems, limitProblems());
    }

    function add(list) {
      Array.prototype.forEach.call(list, function (f) {
        files.push(f);
      });
      input.value = "";
      render();
    }

    input.addEventListener("change", function () {
      add(input.files);
    });
    ["dragenter", "dragover"].forEach(function (type) {
      drop.addEventListener(type, function (e) {
        e.preventDefault();
        drop.classList.add("over");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      drop.addEventListener(type, function () {
        drop.classList.remove("over");
      });
    });
    drop.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files) {
        add(e.dataTransfer.files);
      }
    });

    function category() {
      var c = form.querySelector("input[name=category]:checked");
      return c ? c.value : "";
    }
    function syncContact() {
      contact.required = contactFor.indexOf(category()) >= 0;
    }
    Array.prototype.forEach.call(form.querySelectorAll("input[name=category]"), function (r) {
      r.addEventListener("change", syncContact);
    });
    syncContact();

    function done() {
      job = null;
      send.disabled = false;
      form.removeAttribute("aria-busy");
    }

    function fail(message) {
      if (job) {
        discard(job);
      }
      progress.hidden = true;
      done();
      showProblems(problems, [{ text: message }]);
    }

    function showReceipt(doc) {
      document.documentElement.lang = doc.documentElement.lang;
      document.title = doc.title;
      var json = document.getElementById("sealdrop-i18n");
      document.body.replaceWith(document.adoptNode(doc.body));
      if (json && !document.getElementById("sealdrop-i18n")) {
        document.body.appendChild(json);
      }
      window.scrollTo(0, 0);
      var h = document.getElementById("receipt-heading");
      if (h) {
        h.setAttribute("tabindex", "-1");
        h.focus();
      }
      initReceipt();
    }

    // The resumable path: a small tus 1.0.0 client (creation, core, termination). Each file is
    // created with POST, sent in pieces of `pieceSize` with PATCH, and after a failed piece the
    // script waits, asks the server with HEAD how far it got, and continues from there. The
    // report is then committed with one `upload` field per file.
    function langQuery() {
      var lang = document.documentElement.lang;
      return lang ? "?lang=" + encodeURIComponent(lang) : "";
    }

    function b64(value) {
      var bytes = new TextEncoder().encode(value);
      var bin = "";
      for (var i = 0; i < bytes.length; i += 1) {
        bin += String.fromCharCode(bytes[i]);
      }
      return btoa(bin);
    }

    // The portal's own error text (its error page, in the page's language), else ours.
    function errorText(x) {
      if (!x) {
        return fmt("network");
      }
      try {
        var doc = new DOMParser().parseFromString(x.responseText || "", "text/html");
        var msg = doc.getElementById("error-message");
        if (msg && msg.textContent) {
          return msg.textContent;
        }
      } catch (e) {
        // fall through to our own text
      }
      return x.status === 413 ? fmt("proxy_413") : fmt("generic", { status: x.status });
    }

    // Worth another try: the connection broke, or the server asks to wait or to check again.
    function retryable(x) {
      if (!x || x.status === 0) {
        return true;
      }
      return [408, 409, 423, 429, 500, 502, 503, 504].indexOf(x.status) >= 0;
    }

    // One tus request of job `j`; `cb` gets the finished XHR, or null if the connection broke.
    function tusRequest(j, method, url, headers, body, onProgress, cb) {
      var x = new XMLHttpRequest();
      j.xhr = x;
      x.open(method, url);
      x.setRequestHeader("Tus-Resumable", "1.0.0");
      x.setRequestHeader("Accept", "text/html");
      Object.keys(headers).forEach(function (k) {
        x.setRequestHeader(k, headers[k]);
      });
      if (onProgress) {
        x.upload.addEventListener("progress", onProgress);
      }
      function settle(result) {
        if (j.xhr === x) {
          j.xhr = null;
        }
        if (job === j && !j.cancelled) {
          cb(result);
        }
      }
      x.addEventListener("load", function () {
        settle(x);
      });
      x.addEventListener("error", function () {
        settle(null);
      });
      x.addEventListener("timeout", function () {
        settle(null);
      });
      x.send(body === undefined ? null : body);
    }

    function show(j, sent) {
      var pct = j.total ? Math.min(100, Math.floor((sent / j.total) * 100)) : 100;
      bar.value = pct;
      var now = Date.now();
      if (now - j.lastText > 400 || sent === j.total) {
        j.lastText = now;
        var secs = Math.max((now - j.started) / 1000, 0.001);
        text.textContent = fmt("uploading", { sent: human(sent), total: human(j.total), percent: pct, speed: human(Math.max(0, Math.round(sent / secs))) });
      }
    }

    // Waits (growing delays, or as long as Retry-After asks), then runs `again`; gives up
    // after RETRY_FOR_MS without a piece getting through.
    function retryLater(j, x, again) {
      var now = Date.now();
      if (!j.lostSince) {
        j.lostSince = now;
      }
      if (now - j.lostSince > RETRY_FOR_MS) {
        fail(fmt("retry_gave_up"));
        return;
      }
      var delay = RETRY_DELAYS[Math.min(j.attempt, RETRY_DELAYS.length - 1)];
      var asked = x && Number(x.getResponseHeader("Retry-After"));
      if (asked > 0) {
        delay = Math.max(delay, Math.min(asked, 60) * 1000);
      }
      j.attempt += 1;
      text.textContent = fmt("retrying", { sent: human(j.acked), total: human(j.total) });
      j.timer = setTimeout(function () {
        j.timer = null;
        if (job === j && !j.cancelled) {
          again();
        }
      }, delay);
    }

    function gotThrough(j) {
      j.lostSince = 0;
      j.attempt = 0;
    }

    function uploadFile(j, i) {
      if (i >= files.length) {
        commit(j);
        return;
      }
      var f = files[i];
      var meta = "filename " + b64(f.name) + (f.type ? ",filetype " + b64(f.type) : "");
      function create() {
        tusRequest(j, "POST", uploadsBase + langQuery(), { "Upload-Length": String(f.size), "Upload-Metadata": meta }, null, null, function (x) {
          var url = x && x.status === 201 && x.getResponseHeader("Location");
          if (url) {
            j.urls.push(url);
            gotThrough(j);
            sendFrom(j, i, url, 0);
          } else if (retryable(x)) {
            retryLater(j, x, create);
          } else {
            fail(errorText(x));
          }
        });
      }
      create();
    }

    function sendFrom(j, i, url, offset) {
      var f = files[i];
      j.acked = j.done + offset;
      show(j, j.acked);
      if (offset >= f.size) {
        j.done += f.size;
        uploadFile(j, i + 1);
        return;
      }
      var end = Math.min(offset + pieceSize, f.size);
      var headers = { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" };
      tusRequest(j, "PATCH", url + langQuery(), headers, f.slice(offset, end), function (ev) {
        show(j, j.done + offset + ev.loaded);
      }, function (x) {
        var next = x && x.status === 204 ? Number(x.getResponseHeader("Upload-Offset")) : NaN;
        if (next > offset && next <= f.size) {
          gotThrough(j);
          sendFrom(j, i, url, next);
        } else if (x && x.status === 204) {
          fail(fmt("generic", { status: x.status }));
        } else if (retryable(x)) {
          retryLater(j, x, function () {
            resume(j, i, url);
          });
        } else {
          fail(errorText(x));
        }
      });
    }

    // After a failed piece: where does the server stand?
    function resume(j, i, url) {
      tusRequest(j, "HEAD", url + langQuery(), {}, null, null, function (x) {
        var offset = x && x.status === 200 ? Number(x.getResponseHeader("Upload-Offset")) : NaN;
        if (offset >= 0 && offset <= files[i].size) {
          sendFrom(j, i, url, offset);
        } else if (retryable(x)) {
          retryLater(j, x, function () {
            resume(j, i, url);
          });
        } else {
          fail(x ? fmt("generic", { status: x.status }) : fmt("network"));
        }
      });
    }

    // Removes the uploads of a job that will not become a report (retrying a busy one).
    function discard(j) {
      j.cancelled = true;
      if (j.timer) {
        clearTimeout(j.timer);
        j.timer = null;
      }
      if (j.xhr) {
        j.xhr.abort();
        j.xhr = null;
      }
      j.urls.forEach(function (url) {
        var tries = 0;
        (function remove() {
          var x = new XMLHttpRequest();
          x.open("DELETE", url);
          x.setRequestHeader("Tus-Resumable", "1.0.0");
          function again() {
            tries += 1;
            if (tries < 10) {
              setTimeout(remove, 1000);
            }
          }
          x.addEventListener("load", function () {
            if (x.status === 423 || x.status >= 500) {
              again();
            }
          });
          x.addEventListener("error", again);
          x.send(null);
        })();
      });
      j.urls = [];
    }

    function commit(j) {
      bar.value = 100;
      bar.removeAttribute("value");
      text.textContent = fmt("finishing");
      cancel.hidden = true;
      var data = new FormData();
      data.append("category", category());
      data.append("message", document.getElementById("message").value);
      data.append("contact", contact.value);
      var credit = document.getElementById("credit");
      if (credit && credit.value.trim()) {
        data.append("credit", credit.value);
      }
      var ack = form.querySelector("input[name=acknowledge]");
      if (ack && ack.checked) {
        data.append("acknowledge", "yes");
      }
      j.urls.forEach(function (url) {
        data.append("upload", url);
      });
      var x = new XMLHttpRequest();
      j.xhr = x;
      x.open("POST", form.action);
      x.responseType = "document";
      x.setRequestHeader("Accept", "text/html");
      x.addEventListener("load", function () {
        var doc = x.response;
        if (x.status === 201 && doc && doc.body) {
          j.urls = [];
          done();
          showReceipt(doc);
          return;
        }
        var msg = doc && doc.getElementById && doc.getElementById("error-message");
        if (msg && msg.textContent) {
          fail(msg.textContent);
        } else if (x.status === 413) {
          fail(fmt("proxy_413"));
        } else {
          fail(fmt("generic", { status: x.status }));
        }
      });
      x.addEventListener("error", function () {
        fail(fmt("network"));
      });
      x.send(data);
    }

    cancel.addEventListener("click", function () {
      if (job) {
        fail(fmt("cancelled"));
      }
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (job) {
        return;
      }
      var found = limitProblems();
      if (!category()) {
        found.unshift({ target: form.querySelector("input[name=category]").id || "main", text: fmt("category_required") });
      }
      var messageBytes = new TextEncoder().encode(document.getElementById("message").value).length;
      if (messageBytes > maxMessage) {
        found.push({ target: "message", text: fmt("message_too_long", { size: human(messageBytes), limit: human(maxMessage) }) });
      }
      syncContact();
      if (contact.required && !contact.value.trim()) {
        found.push({ target: "contact", text: fmt("contact_required") });
      }
      if (found.length) {
        showProblems(problems, found);
        return;
      }
      showProblems(problems, []);
      var total = 0;
      files.forEach(function (f) {
        total += f.size;
      });
      job = { xhr: null, timer: null, urls: [], cancelled: false, total: total, done: 0, acked: 0, started: Date.now(), lastText: 0, lostSince: 0, attempt: 0 };
      send.disabled = true;
      form.setAttribute("aria-busy", "true");
      cancel.hidden = false;
      bar.value = 0;
      text.textContent = fmt("uploading", { sent: human(0), total: human(total), percent: 0, speed: human(0) });
      progress.hidden = false;
      uploadFile(job, 0);
    });
  }

  function receiptText() {
    var lines = [];
    var ref = document.getElementById("reference");
    lines.push(document.title);
    if (ref) {
      lines.push("", ref.textContent.trim());
    }
    Array.prototype.forEach.call(document.querySelectorAll("main dl dt"), function (dt) {
      var dd = dt.nextElementSibling;
      lines.push(dt.textContent + ": " + (dd ? dd.textContent : ""));
    });
    Array.prototype.forEach.call(document.querySelectorAll("main table tr"), function (tr) {
      var cells = Array.prototype.map.call(tr.children, function (c) {
        return c.textContent.trim();
      });
      lines.push(cells.join("  "));
    });
    return lines.join("\n") + "\n";
  }

  function initReceipt() {
    var copy = document.getElementById("copy");
    var download = document.getElementById("download");
    var ref = document.getElementById("reference");
    if (!copy || !ref) {
      return;
    }
    copy.parentNode.hidden = false;
    copy.addEventListener("click", function () {
      var value = ref.textContent.trim();
      function copied() {
        copy.textContent = fmt("copied");
      }
      function fallback() {
        var area = el("textarea", { class: "offscreen", "aria-hidden": "true" });
        area.value = value;
        document.body.appendChild(area);
        area.select();
        try {
          document.execCommand("copy");
          copied();
        } finally {
          area.remove();
        }
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(copied, fallback);
      } else {
        fallback();
      }
    });
    download.addEventListener("click", function () {
      var blob = new Blob([receiptText()], { type: "text/plain;charset=utf-8" });
      var url = URL.createObjectURL(blob);
      var caseEl = document.getElementById("case");
      var a = el("a", { href: url, download: "receipt-" + (caseEl ? caseEl.textContent.trim() : "report") + ".txt" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 1000);
    });
  }

  var form = document.getElementById("report");
  if (form && window.FormData && window.XMLHttpRequest && window.TextEncoder && window.DOMParser && Blob.prototype.slice) {
    initForm(form);
  }
  initReceipt();
})();
