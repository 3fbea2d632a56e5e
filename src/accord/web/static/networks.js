// The link chart of a network case (cytoscape.js from /static/vendor; no CDN, the network is closed). The first
// elements come from the page's JSON block; expanding a node, finding a path and exporting FtM ask the server, which
// reads the case under the officer's need-to-know. Labels are other people's text: they only ever go into text nodes.
(function () {
  "use strict";

  var COLOURS = { ours: "#1f6feb", partner: "#d4731c", both: "#7a3fbf", unknown: "#8a8f98" };
  var PATH = "#e3a008";

  var STYLE = [
    {
      selector: "node",
      style: {
        shape: "data(shape)",
        width: "data(size)",
        height: "data(size)",
        "background-color": function (node) { return COLOURS[node.data("provenance")] || COLOURS.unknown; },
        "border-width": 2,
        "border-color": "#ffffff",
        label: "data(label)",
        "font-size": 10,
        "text-valign": "bottom",
        "text-margin-y": 4,
        "text-wrap": "ellipsis",
        "text-max-width": 140,
        color: "#1d2733"
      }
    },
    { selector: "node[schema = 'Unknown']", style: { "border-style": "dashed", "border-color": "#33424f" } },
    { selector: "node.expanded", style: { "border-color": "#1d2733", "border-width": 3 } },
    {
      selector: "edge",
      style: {
        width: 1.5,
        "line-color": "#9aa7b4",
        "target-arrow-color": "#9aa7b4",
        "target-arrow-shape": "triangle",
        "curve-style": "bezier",
        label: "data(label)",
        "font-size": 8,
        color: "#4a5866",
        "text-rotation": "autorotate",
        "text-background-color": "#fbfcfd",
        "text-background-opacity": 1
      }
    },
    { selector: "node.on-path", style: { "border-color": PATH, "border-width": 6 } },
    { selector: "edge.on-path", style: { "line-color": PATH, "target-arrow-color": PATH, width: 5 } },
    { selector: ".filtered", style: { display: "none" } }
  ];

  function byId(id) { return document.getElementById(id); }

  // The page's words for what the script writes (#chart-words): "{name}" fields are filled in here, as text only.
  function words() {
    var holder = byId("chart-words");
    function text(name, fields) {
      var template = holder.getAttribute("data-" + name) || "";
      return template.replace(/\{(\w+)\}/g, function (whole, field) {
        return fields && Object.prototype.hasOwnProperty.call(fields, field) ? String(fields[field]) : whole;
      });
    }
    return {
      text: text,
      // The forms for 0, 1 and 2 are the page's: each of Accord's languages writes every number above one alike.
      count: function (name, n) {
        return text(name + "-" + (n === 0 ? "zero" : n === 1 ? "one" : "other"), { count: n });
      }
    };
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function start() {
    var holder = byId("link-chart");
    var source = byId("chart-data");
    if (!holder || !source || typeof cytoscape === "undefined") {
      return;
    }
    var setup = JSON.parse(source.textContent || "{}");
    var wording = words();
    var cy = cytoscape({
      container: holder,
      elements: setup.elements,
      style: STYLE,
      layout: { name: "cose", animate: false },
      minZoom: 0.1,
      maxZoom: 4
    });
    var broughtBy = {};  // entity id → the ids its expansion added (what collapsing it removes)
    var statusLine = byId("chart-status");
    var alertLine = byId("chart-alert");
    var layoutChoice = byId("chart-layout");

    function say(text) {
      alertLine.hidden = true;
      statusLine.textContent = text;
    }

    function warn(text) {
      alertLine.textContent = text;
      alertLine.hidden = false;
    }

    function relayout() {
      cy.layout({ name: layoutChoice.value, animate: false, fit: true, padding: 30 }).run();
    }

    function checked(name) {
      var values = {};
      document.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
        values[box.value] = box.checked;
      });
      return values;
    }

    function applyFilters() {
      var schemata = checked("schema");
      var whose = checked("provenance");
      cy.batch(function () {
        cy.nodes().forEach(function (node) {
          var shown = schemata[node.data("schema")] !== false && whose[node.data("provenance")] !== false;
          node.toggleClass("filtered", !shown);
        });
      });
      listShown();
    }

    function listShown() {
      var list = byId("chart-entities");
      list.textContent = "";
      var nodes = cy.nodes().sort(function (a, b) { return a.data("caption").localeCompare(b.data("caption")); });
      nodes.forEach(function (node) {
        var item = document.createElement("li");
        item.setAttribute("data-entity", node.id());
        item.classList.toggle("on-path", node.hasClass("on-path"));
        item.classList.toggle("filtered", node.hasClass("filtered"));
        var name = document.createElement("span");
        var swatch = document.createElement("span");
        swatch.className = "swatch prov-" + node.data("provenance");
        swatch.setAttribute("aria-hidden", "true");
        name.appendChild(swatch);
        name.appendChild(document.createTextNode(node.data("caption") + " "));
        var kind = document.createElement("span");
        kind.className = "small muted";
        kind.textContent = "(" + node.data("schemaLabel") + ")";
        name.appendChild(kind);
        var button = document.createElement("button");
        button.type = "button";
        var open = node.hasClass("expanded");
        button.textContent = wording.text(open ? "collapse" : "expand");
        var named = wording.text(open ? "collapse-entity" : "expand-entity", { entity: node.data("caption") });
        button.setAttribute("aria-label", named);
        button.addEventListener("click", function () { toggle(node.id()); });
        item.appendChild(name);
        item.appendChild(button);
        list.appendChild(item);
      });
      var visible = cy.nodes().not(".filtered").length;
      var links = cy.edges().filter(function (edge) {
        return !edge.source().hasClass("filtered") && !edge.target().hasClass("filtered");
      }).length;
      var counted = { entities: wording.count("entities", visible), links: wording.count("links", links) };
      say(wording.text("shown", counted));
    }

    function addElements(elements) {
      var fresh = [];
      elements.nodes.forEach(function (node) {
        if (cy.getElementById(node.data.id).empty()) {
          fresh.push(node.data.id);
          cy.add({ group: "nodes", data: node.data });
        }
      });
      elements.edges.forEach(function (edge) {
        if (cy.getElementById(edge.data.id).empty()) {
          cy.add({ group: "edges", data: edge.data });
        }
      });
      return fresh;
    }

    function fetchJson(url, options) {
      return fetch(url, Object.assign({ credentials: "same-origin" }, options || {})).then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error(response.ok ? wording.text("no-data") : wording.text("refused", { status: response.status }));
        }
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.detail || "HTTP " + response.status);
          }
          return body;
        });
      });
    }

    function expand(id) {
      var url = setup.urls.neighbours + "?entity=" + encodeURIComponent(id);
      return fetchJson(url).then(function (body) {
        broughtBy[id] = addElements(body.elements);
        cy.getElementById(id).addClass("expanded");
        relayout();
        applyFilters();
      }).catch(function (error) { warn(wording.text("expand-failed", { reason: error.message })); });
    }

    function collapse(id) {
      var origin = cy.getElementById(id);
      var brought = cy.collection();
      (broughtBy[id] || []).forEach(function (other) { brought = brought.union(cy.getElementById(other)); });
      // Keep what another expansion or the path holds, and what still links to the rest of the chart.
      var keep = brought.filter(function (node) {
        if (node.hasClass("expanded") || node.hasClass("on-path")) {
          return true;
        }
        return node.neighborhood("node").difference(brought).difference(origin).length > 0;
      });
      cy.remove(brought.difference(keep));
      delete broughtBy[id];
      origin.removeClass("expanded");
      applyFilters();
    }

    function toggle(id) {
      if (cy.getElementById(id).hasClass("expanded")) {
        collapse(id);
      } else {
        expand(id);
      }
    }

    function clearPath() {
      cy.elements().removeClass("on-path");
      listShown();
    }

    function findPath(event) {
      event.preventDefault();
      var form = event.target;
      var url = setup.urls.path + "?source=" + encodeURIComponent(form.source.value) +
        "&target=" + encodeURIComponent(form.target.value);
      fetchJson(url).then(function (body) {
        addElements(body.elements);
        cy.elements().removeClass("on-path");
        for (var i = 0; i < body.path.length; i++) {
          var node = cy.getElementById(body.path[i]);
          node.addClass("on-path");
          if (i > 0) {
            node.edgesWith(cy.getElementById(body.path[i - 1])).addClass("on-path");
          }
        }
        relayout();
        applyFilters();
        var links = wording.count("links", body.path.length - 1);
        say(wording.text("path", { links: links, entities: body.captions.join(" → ") }));
      }).catch(function (error) { warn(error.message); });
    }

    function download(blob, name) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    }

    function exportFtm() {
      var ids = cy.nodes().not(".filtered").map(function (node) { return node.id(); });
      fetch(setup.urls.export, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ entities: ids })
      }).then(function (response) {
        if (!response.ok) {
          throw new Error(wording.text("export-refused", { status: response.status }));
        }
        return response.blob();
      }).then(function (blob) {
        download(blob, setup.fileName + ".ftm.json");
      }).catch(function (error) { warn(error.message); });
    }

    cy.on("tap", "node", function (event) { toggle(event.target.id()); });
    layoutChoice.addEventListener("change", relayout);
    document.querySelectorAll(".chart-filter input").forEach(function (box) {
      box.addEventListener("change", applyFilters);
    });
    byId("path-form").addEventListener("submit", findPath);
    byId("path-clear").addEventListener("click", clearPath);
    byId("export-png").addEventListener("click", function () {
      download(cy.png({ output: "blob", full: true, bg: "#ffffff", scale: 2 }), setup.fileName + ".png");
    });
    byId("export-svg").addEventListener("click", function () {
      var svg = cy.svg({ full: true, bg: "#ffffff" });
      download(new Blob([svg], { type: "image/svg+xml" }), setup.fileName + ".svg");
    });
    byId("export-ftm").addEventListener("click", exportFtm);
    if (setup.start) {
      cy.getElementById(setup.start).addClass("expanded");
      broughtBy[setup.start] = cy.nodes().not(cy.getElementById(setup.start)).map(function (n) { return n.id(); });
    }
    applyFilters();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
