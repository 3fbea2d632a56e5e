// The incident map: Leaflet over country outlines that topojson-client decodes from world-atlas; no tile server, as
// the network is closed. The incidents come from the page's JSON block; the table below the map lists them as text.
(function () {
  "use strict";

  function line(box, tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    box.appendChild(element);
    return element;
  }

  // Built from nodes, never from HTML strings: titles and places are other people's text.
  function popup(incident) {
    var box = document.createElement("div");
    box.className = "incident-popup";
    line(box, "strong", incident.kind_label);
    line(box, "div", incident.occurred_on + " · " + incident.place);
    line(box, "div", incident.substances);
    var link = line(box, "a", incident.title);
    link.href = "/messages/" + encodeURIComponent(incident.id);
    return box;
  }

  function start() {
    var holder = document.getElementById("incident-map");
    var source = document.getElementById("incident-data");
    if (!holder || !source || typeof L === "undefined") {
      return;
    }
    var incidents = JSON.parse(source.textContent || "[]");
    // The page gives the map's words in the officer's language; Leaflet's own are English.
    var words = holder.dataset;
    var map = L.map(holder, { minZoom: 1, maxZoom: 12, zoomSnap: 0.5, worldCopyJump: true, zoomControl: false });
    L.control.zoom({ zoomInTitle: words.zoomIn, zoomOutTitle: words.zoomOut }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution(words.attribution);
    map.on("popupopen", function (event) {
      var close = event.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) {
        close.setAttribute("aria-label", words.closePopup);
      }
    });

    // The view is set first: Leaflet places a marker only on a map that has one.
    if (incidents.length) {
      var places = incidents.map(function (incident) { return [incident.latitude, incident.longitude]; });
      map.fitBounds(places, { padding: [40, 40], maxZoom: 6 });
    } else {
      map.fitBounds([[5, -140], [72, 98]]);  // the two parties, Canada and India
    }
    incidents.forEach(function (incident) {
      var name = incident.kind_label + ", " + incident.occurred_on + ", " + incident.place;
      var marker = L.marker([incident.latitude, incident.longitude], {
        icon: L.divIcon({ className: "incident-marker kind-" + incident.kind, iconSize: [18, 18] }),
        title: name,
        keyboard: true,
        riseOnHover: true
      });
      marker.bindPopup(popup(incident));
      marker.addTo(map);
      marker.getElement().setAttribute("aria-label", name);
      marker.getElement().setAttribute("data-incident", incident.id);
    });

    fetch(holder.getAttribute("data-outlines"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("country outlines: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (topology) {
        var countries = topojson.feature(topology, topology.objects.countries);
        L.geoJSON(countries, {
          interactive: false,
          style: { color: "#7d8e9c", weight: 0.6, fillColor: "#f7f5ef", fillOpacity: 1 }
        }).addTo(map).bringToBack();
        holder.setAttribute("data-outlines-state", "loaded");
      })
      .catch(function (problem) {
        holder.classList.add("no-outlines");
        if (window.console) {
          window.console.warn(problem);
        }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
