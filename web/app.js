// sealdrop: progressive enhancement of the upload form and the receipt. The pages work without
// it; with it the reporter gets drag-and-drop, limits checked before any byte is sent, a
// progress bar with speed and a cancel button, and copy/download buttons on the receipt.
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
    var files = [];
    var xhr = null;

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
      xhr = null;
      send.disabled = false;
      form.removeAttribute("aria-busy");
    }

    function fail(message) {
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

    cancel.addEventListener("click", function () {
      if (xhr) {
        xhr.abort();
      }
    });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (xhr) {
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
      files.forEach(function (f) {
        data.append("file", f, f.name);
      });
      var started = Date.now();
      var lastText = 0;
      xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      xhr.setRequestHeader("Accept", "text/html");
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) {
          return;
        }
        var pct = Math.floor((ev.loaded / ev.total) * 100);
        bar.value = pct;
        var now = Date.now();
        if (now - lastText > 400 || ev.loaded === ev.total) {
          lastText = now;
          var secs = Math.max((now - started) / 1000, 0.001);
          text.textContent = fmt("uploading", { sent: human(ev.loaded), total: human(ev.total), percent: pct, speed: human(Math.round(ev.loaded / secs)) });
        }
      });
      xhr.upload.addEventListener("load", function () {
        bar.value = 100;
        bar.removeAttribute("value");
        text.textContent = fmt("finishing");
        cancel.hidden = true;
      });
      xhr.addEventListener("load", function () {
        var doc = xhr.response;
        if (xhr.status === 201 && doc && doc.body) {
          done();
          showReceipt(doc);
          return;
        }
        var msg = doc && doc.getElementById && doc.getElementById("error-message");
        if (msg && msg.textContent) {
          fail(msg.textContent);
        } else if (xhr.status === 413) {
          fail(fmt("proxy_413"));
        } else {
          fail(fmt("generic", { status: xhr.status }));
        }
      });
      xhr.addEventListener("error", function () {
        fail(fmt("network"));
      });
      xhr.addEventListener("abort", function () {
        fail(fmt("cancelled"));
      });
      send.disabled = true;
      form.setAttribute("aria-busy", "true");
      cancel.hidden = false;
      bar.value = 0;
      text.textContent = fmt("uploading", { sent: human(0), total: "…", percent: 0, speed: human(0) });
      progress.hidden = false;
      xhr.send(data);
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
  if (form && window.FormData && window.XMLHttpRequest) {
    initForm(form);
  }
  initReceipt();
})();
