// Progressive enhancement of the catalogue form: apply a filter or an ordering as soon as it changes.
// Without JavaScript the "Aplicar filtros" and "Ordenar" buttons do the same.
(function () {
  var form = document.querySelector("form.catalogue");
  if (!form) return;
  form.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox], input[type=radio], select")) {
      var page = form.querySelector("input[name=page]");
      if (page) page.remove();
      form.submit();
    }
  });
})();
