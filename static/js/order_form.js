// The new-order form: a filter over the procedures (grouped by region), only the side and
// levels the chosen procedure uses, and the ICD-10 code checked against the clinic's list
// (the <datalist> offers the list as you type; a code outside it is flagged, not refused).
(function () {
  "use strict";

  const form = document.getElementById("order-form");
  if (!form) return;
  const select = form.querySelector("[data-procedure-select]");
  const rulesNode = document.getElementById("order-procedure-rules");
  const rules = rulesNode ? JSON.parse(rulesNode.textContent) : {};

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function filterProcedures(query) {
    const wanted = words(query);
    let shown = 0;
    for (const group of select.querySelectorAll("optgroup")) {
      let groupShown = 0;
      for (const option of group.querySelectorAll("option")) {
        const text = (option.textContent + " " + group.label).toLowerCase();
        const match = wanted.every((word) => text.includes(word));
        option.hidden = !match;
        if (match) groupShown += 1;
      }
      group.hidden = groupShown === 0;
      shown += groupShown;
    }
    return shown;
  }

  function setUpFilter() {
    const box = form.querySelector("[data-procedure-filter]");
    const input = document.getElementById("procedure-filter");
    const count = document.getElementById("procedure-filter-count");
    if (!box || !input || !select) return;
    box.hidden = false;
    input.addEventListener("input", function () {
      const shown = filterProcedures(input.value);
      count.textContent = input.value ? shown + (shown === 1 ? " procedure matches" : " procedures match") : "";
    });
  }

  function fieldOf(element) {
    return element ? element.closest(".field") : null;
  }

  // Only the chosen procedure's side and levels; its levels appear once it is chosen.
  function applyRules() {
    if (!select) return;
    const rule = rules[select.value];
    const side = document.getElementById("id_side");
    const levelBoxes = form.querySelectorAll('input[type="checkbox"][name="levels"]');
    const sideField = fieldOf(side);
    if (sideField) {
      sideField.hidden = Boolean(rule) && !rule.side;
      if (sideField.hidden) side.value = "";
    }
    let anyLevel = false;
    for (const box of levelBoxes) {
      const allowed = Boolean(rule) && rule.levels.includes(box.value);
      const item = box.closest("label") ? box.closest("label").parentElement : box.parentElement;
      item.hidden = !allowed;
      if (!allowed) box.checked = false;
      anyLevel = anyLevel || allowed;
    }
    for (const group of form.querySelectorAll("#id_levels > div")) {
      const visible = Array.from(group.querySelectorAll('input[name="levels"]')).some(
        (box) => !box.closest("label").parentElement.hidden
      );
      group.hidden = !visible;
    }
    const levelsField = levelBoxes.length ? fieldOf(levelBoxes[0]) : null;
    if (levelsField) levelsField.hidden = !anyLevel; // shown once a procedure with levels is chosen
  }

  function setUpCodeCheck() {
    const code = form.querySelector("[data-icd10]");
    const text = document.getElementById("id_indication_text");
    const flag = document.getElementById("icd10-flag");
    const list = document.getElementById("icd10-codes");
    if (!code || !flag || !list) return;
    const known = new Map(
      Array.from(list.options).map((option) => [option.value, option.dataset.description])
    );
    function check() {
      const value = code.value.trim().toUpperCase();
      if (known.has(value)) {
        flag.hidden = true;
        if (text && !text.value.trim()) text.value = known.get(value);
        return;
      }
      flag.hidden = !value;
      flag.textContent = value ? value + ": " + flag.dataset.notInList + ". Check the code; it is accepted as typed." : "";
    }
    code.addEventListener("change", check);
    code.addEventListener("input", check);
  }

  setUpFilter();
  if (select) select.addEventListener("change", applyRules);
  applyRules();
  setUpCodeCheck();
})();
