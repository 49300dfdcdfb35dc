// Progressive enhancement of the catalogue: on a wide screen the filter panel starts open (on a phone it starts
// closed, before the results, behind its "Filtros (n)" control). Filters apply with the "Aplicar" button only, so
// ticking a box never reloads the page or moves the keyboard focus. Everything works with JavaScript off.
(function () {
  var panel = document.querySelector("details.filters");
  if (!panel) return;
  if (window.matchMedia("(min-width: 50rem)").matches) {
    panel.open = true;
    panel.querySelectorAll("details.facet-group").forEach(function (group) { group.open = true; });
  }
})();
