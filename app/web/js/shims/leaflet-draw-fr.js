/* French texts of Leaflet.draw (read when the drawing toolbar is built, before the app's
   modules run). Only the tools the map offers are translated: rectangle and polygon. */
(function () {
  "use strict";
  if (!window.L || !L.drawLocal) { return; }
  var draw = L.drawLocal.draw;
  draw.toolbar.actions = { title: "Annuler le tracé", text: "Annuler" };
  draw.toolbar.finish = { title: "Terminer le tracé", text: "Terminer" };
  draw.toolbar.undo = { title: "Effacer le dernier point", text: "Effacer le dernier point" };
  draw.toolbar.buttons.rectangle = "Sélection par rectangle";
  draw.toolbar.buttons.polygon = "Sélection au lasso (polygone)";
  draw.handlers.rectangle.tooltip.start = "Cliquez et glissez pour tracer un rectangle.";
  draw.handlers.simpleshape.tooltip.end = "Relâchez pour terminer.";
  draw.handlers.polygon.tooltip = {
    start: "Cliquez pour commencer le polygone.",
    cont: "Cliquez pour continuer le polygone.",
    end: "Cliquez sur le premier point pour fermer le polygone."
  };
  draw.handlers.polyline.error = "<strong>Erreur :</strong> les côtés ne peuvent pas se croiser.";
})();
