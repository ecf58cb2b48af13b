// Maps: a base layer of tiles (SOHOA_MAP_TILES_URL, credited with SOHOA_MAP_ATTRIBUTION), and
// under it the provinces' outlines that ship with sohoa, drawn when no tile URL is set or as
// soon as a tile fails to load, so a map is never blank. Sites are markers, clustered when
// zoomed out (leaflet.markercluster); parcels are polygons.
// Data comes from a <script type="application/json" id="map-data"> element next to #map, the
// base layer from <body data-map-tiles data-map-attribution>; popups are built from DOM nodes.
(function () {
  "use strict";

  var OUTLINES = "/static/vendor/vn-provinces/provinces.geojson";
  var HANOI = [21.0285, 105.8542];
  var OFFLINE_ZOOM = 10;

  function link(item) {
    var a = document.createElement("a");
    a.href = item.url;
    a.textContent = item.title;
    return a;
  }

  function offline(map, el) {
    if (el.dataset.offline) return;
    el.dataset.offline = "loading";
    fetch(OUTLINES).then(function (r) { return r.json(); }).then(function (data) {
      L.geoJSON(data, {
        pane: "outlines",
        interactive: false,
        attribution: "Natural Earth",
        style: { color: "#6b7b8c", weight: 1.2, fillColor: "#f3efe4", fillOpacity: 1 },
        onEachFeature: function (feature, layer) {
          layer.bindTooltip(feature.properties.name, {
            permanent: true, direction: "center", className: "province-label", pane: "outlines",
          });
        },
      }).addTo(map);
      // outlines are all there is: around points, step back far enough to see some (the
      // user can zoom in); a parcel's shape is the point of its map, so it stays in view
      if (!Number(el.dataset.shapes) && map.getZoom() > OFFLINE_ZOOM) map.setZoom(OFFLINE_ZOOM);
      el.dataset.offline = "shown";
    }).catch(function () { el.dataset.offline = "failed"; });
  }

  function base(map, el) {
    // the outlines sit under the tiles: they show through wherever a tile is missing
    map.createPane("outlines").style.zIndex = 150;
    var url = document.body.dataset.mapTiles;
    if (!url) { offline(map, el); return; }
    var credit = document.body.dataset.mapAttribution || "";
    var tiles = L.tileLayer(url, { attribution: credit, maxZoom: 19 });
    tiles.on("tileerror", function () { offline(map, el); });
    tiles.on("tileload", function () { el.dataset.tilesLoaded = "1"; });
    tiles.addTo(map);
  }

  function points() {
    if (L.markerClusterGroup) {
      return L.markerClusterGroup({ disableClusteringAtZoom: 16, showCoverageOnHover: false });
    }
    return L.featureGroup();
  }

  function show(el, items) {
    if (!el || !window.L) return null;
    var map = L.map(el, { zoomSnap: 0.25, keyboard: true });
    map.attributionControl.setPrefix(false);
    base(map, el);
    var shapes = L.featureGroup().addTo(map);
    var markers = points().addTo(map);
    var count = 0;
    items.forEach(function (item) {
      var shape = item.geometry;
      if (shape && shape.type !== "Point") {
        L.geoJSON(shape, { style: { color: "#b5452b", weight: 2, fillOpacity: 0.25 } })
          .bindPopup(link(item)).addTo(shapes);
        count += 1;
      } else if (item.lat !== null && item.lat !== undefined) {
        L.marker([item.lat, item.lon], { title: item.title, alt: item.title, keyboard: true })
          .bindPopup(link(item)).addTo(markers);
        count += 1;
      }
    });
    var bounds = shapes.getBounds();
    if (markers.getLayers().length) {
      bounds = bounds.isValid() ? bounds.extend(markers.getBounds()) : markers.getBounds();
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
    } else {
      map.setView(HANOI, 11);
    }
    el.dataset.features = String(count);
    el.dataset.shapes = String(shapes.getLayers().length);
    return map;
  }

  window.sohoaMap = { show: show };
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    var data = document.getElementById("map-data");
    if (el && data) show(el, JSON.parse(data.textContent || "[]"));
  });
})();
