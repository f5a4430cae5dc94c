/* Generated forms in the browser: relevance, calculated fields, cascading choices,
 * member rows. Plain ES5, no framework, nothing inline (CSP script-src 'self').
 *
 * The server decides: everything here is a preview of what validate_record will do.
 * When a formula is missing (the server could not translate it, e.g. lookup()) or
 * throws, the field is shown - a field is never hidden on a guess.
 *
 * R is the runtime the generated formulas (formulas/javascript.py) call; it follows
 * the Python meaning of the formula language (see formulas/functions.py). */
(function (root) {
  "use strict";

  function FormulaError(message) { this.message = message; }
  FormulaError.prototype = Object.create(Error.prototype);
  FormulaError.prototype.name = "FormulaError";

  function fail(message) { throw new FormulaError(message); }
  function isNull(x) { return x === null || x === undefined; }
  function need(x, what) { if (isNull(x)) { fail(what + " has no value"); } return x; }
  function isNum(x) { return typeof x === "number" && isFinite(x); }
  function isDate(x) { return x instanceof Date; }
  function num(x, what) { need(x, what || "the value"); if (!isNum(x)) { fail("not a number"); } return x; }
  function day(x, what) { need(x, what || "the date"); if (!isDate(x)) { fail("not a date"); } return x; }

  var MS_PER_DAY = 86400000;
  var MAX_POWER_EXPONENT = 100;
  var MAX_POWER_BASE = 1e15;
  var MAX_TEXT_LENGTH = 10000;

  function utc(y, m, d) { return new Date(Date.UTC(y, m, d)); }
  function trunc(x) { return x < 0 ? Math.ceil(x) : Math.floor(x); }
  function daysInMonth(y, m) { return new Date(Date.UTC(y, m + 1, 0)).getUTCDate(); }

  function parseDate(text) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text).trim());
    if (!match) { return null; }
    var y = +match[1], m = +match[2] - 1, d = +match[3];
    var result = utc(y, m, d);
    if (result.getUTCFullYear() !== y || result.getUTCMonth() !== m || result.getUTCDate() !== d) { return null; }
    return result;
  }

  function yearsBetween(start, end) {
    day(start, "the first date"); day(end, "the second date");
    var years = end.getUTCFullYear() - start.getUTCFullYear();
    if (end.getUTCMonth() < start.getUTCMonth() ||
        (end.getUTCMonth() === start.getUTCMonth() && end.getUTCDate() < start.getUTCDate())) { years -= 1; }
    return years;
  }

  function monthsBetween(start, end) {
    day(start, "the first date"); day(end, "the second date");
    var months = (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth();
    if (end.getUTCDate() < start.getUTCDate()) { months -= 1; }
    return months;
  }

  function addDays(d, n) {
    day(d); n = trunc(num(n, "the number of days"));
    return new Date(d.getTime() + n * MS_PER_DAY);
  }

  function addMonths(d, n) {
    day(d); n = trunc(num(n, "the number of months"));
    var total = d.getUTCMonth() + n;
    var year = d.getUTCFullYear() + Math.floor(total / 12);
    var month = ((total % 12) + 12) % 12;
    return utc(year, month, Math.min(d.getUTCDate(), daysInMonth(year, month)));
  }

  /* Python truthiness: an empty list or text is false, a date is true. */
  function t(x) {
    if (isNull(x)) { return false; }
    if (Array.isArray(x)) { return x.length > 0; }
    if (typeof x === "string") { return x.length > 0; }
    if (typeof x === "number") { return x !== 0; }
    if (typeof x === "object" && !isDate(x)) { return Object.keys(x).length > 0; }
    return Boolean(x);
  }

  function eq(a, b) {
    if (a === b) { return true; }
    if (isNull(a) || isNull(b)) { return isNull(a) && isNull(b); }
    if (isDate(a) && isDate(b)) { return a.getTime() === b.getTime(); }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length || Boolean(a.isTuple) !== Boolean(b.isTuple)) { return false; }
      for (var i = 0; i < a.length; i++) { if (!eq(a[i], b[i])) { return false; } }
      return true;
    }
    if (typeof a === "boolean" && typeof b === "number") { return Number(a) === b; }
    if (typeof b === "boolean" && typeof a === "number") { return Number(b) === a; }
    if (typeof a === "object" && typeof b === "object" && !isDate(a) && !isDate(b) &&
        !Array.isArray(a) && !Array.isArray(b)) {
      var ka = Object.keys(a), kb = Object.keys(b);
      if (ka.length !== kb.length) { return false; }
      for (var j = 0; j < ka.length; j++) { if (!eq(a[ka[j]], b[ka[j]])) { return false; } }
      return true;
    }
    return false;
  }

  function order(a, b) {
    need(a, "a value"); need(b, "a value");
    if (isDate(a) && isDate(b)) { return a.getTime() - b.getTime(); }
    var na = typeof a === "boolean" ? Number(a) : a, nb = typeof b === "boolean" ? Number(b) : b;
    if (isNum(na) && isNum(nb)) { return na - nb; }
    if (typeof a === "string" && typeof b === "string") { return a < b ? -1 : (a > b ? 1 : 0); }
    return fail("cannot compare these values");
  }

  function contains(collection, x) {
    if (isNull(collection)) { fail("'in' needs a list"); }
    if (typeof collection === "string") {
      if (typeof x !== "string") { fail("'in' on text needs text"); }
      return collection.indexOf(x) !== -1;
    }
    if (!Array.isArray(collection)) { fail("'in' needs a list"); }
    for (var i = 0; i < collection.length; i++) { if (eq(collection[i], x)) { return true; } }
    return false;
  }

  function roundHalfUp(x, places) {
    num(x, "the number to round");
    places = isNull(places) ? 0 : trunc(num(places, "the number of places"));
    var factor = Math.pow(10, places);
    // toPrecision removes binary noise (2.675 * 100 = 267.49999...) before rounding
    var scaled = Number((Math.abs(x) * factor).toPrecision(15));
    var result = Math.floor(scaled + 0.5) / factor;
    return x < 0 ? -result : result;
  }

  function rows(collection) { return isNull(collection) ? [] : collection; }
  function getter(row) {
    return function (name) {
      if (isNull(row) || typeof row !== "object") { fail("a member of the list is not a record"); }
      var value = row[name];
      return value === undefined ? null : value;
    };
  }

  var R = {
    FormulaError: FormulaError,
    asOf: null, // the evaluation date; the browser's today when null
    date: function (text) {
      var d = parseDate(text);
      if (d === null) { fail("'" + text + "' is not a date (write YYYY-MM-DD)"); }
      return d;
    },
    parseDate: parseDate,
    /* a Python tuple: equal only to a tuple (a list from a multi-select never equals ("a",)) */
    tuple: function (items) { items.isTuple = true; return items; },
    today: function () {
      if (R.asOf) { return R.asOf; }
      var now = new Date();
      return utc(now.getFullYear(), now.getMonth(), now.getDate());
    },
    t: t,
    and: function (first, rest) {
      var x = first;
      for (var i = 0; i < rest.length; i++) { if (!t(x)) { return x; } x = rest[i](); }
      return x;
    },
    or: function (first, rest) {
      var x = first;
      for (var i = 0; i < rest.length; i++) { if (t(x)) { return x; } x = rest[i](); }
      return x;
    },
    neg: function (x) { return -num(x); },
    pos: function (x) { return num(x); },
    add: function (a, b) {
      need(a, "a value"); need(b, "a value");
      if (typeof a === "string" && typeof b === "string") {
        if (a.length + b.length > MAX_TEXT_LENGTH) { fail("text too long"); }
        return a + b;
      }
      if (isDate(a) && isNum(b)) { return addDays(a, b); }
      if (isNum(a) && isDate(b)) { return addDays(b, a); }
      return num(a) + num(b);
    },
    sub: function (a, b) {
      need(a, "a value"); need(b, "a value");
      if (isDate(a) && isDate(b)) { return Math.round((a.getTime() - b.getTime()) / MS_PER_DAY); }
      if (isDate(a)) { return addDays(a, -num(b)); }
      return num(a) - num(b);
    },
    mul: function (a, b) { return num(a) * num(b); },
    div: function (a, b) {
      num(a); if (num(b) === 0) { fail("division by zero"); }
      return a / b;
    },
    floordiv: function (a, b) {
      num(a); if (num(b) === 0) { fail("division by zero"); }
      return Math.floor(a / b);
    },
    mod: function (a, b) {
      num(a); if (num(b) === 0) { fail("division by zero"); }
      return ((a % b) + b) % b;
    },
    pow: function (a, b) {
      num(a); num(b);
      if (Math.abs(b) > MAX_POWER_EXPONENT || Math.abs(a) > MAX_POWER_BASE) { fail("power too large"); }
      var result = Math.pow(a, b);
      if (!isFinite(result)) { fail("the power has no result"); }
      return result;
    },
    eq: eq,
    ne: function (a, b) { return !eq(a, b); },
    lt: function (a, b) { return order(a, b) < 0; },
    le: function (a, b) { return order(a, b) <= 0; },
    gt: function (a, b) { return order(a, b) > 0; },
    ge: function (a, b) { return order(a, b) >= 0; },
    isin: function (x, collection) { return contains(collection, x); },
    notin: function (x, collection) { return !contains(collection, x); },
    chain: function (first, steps) {
      var left = first;
      for (var i = 0; i < steps.length; i++) {
        var right = steps[i][1]();
        if (!R[steps[i][0]](left, right)) { return false; }
        left = right;
      }
      return true;
    },
    count: function (collection, condition) {
      var list = rows(collection);
      if (!condition) { return list.length; }
      var n = 0;
      for (var i = 0; i < list.length; i++) { if (t(condition(getter(list[i])))) { n += 1; } }
      return n;
    },
    sum: function (collection, value) {
      var list = rows(collection), total = 0;
      for (var i = 0; i < list.length; i++) { total += num(value(getter(list[i])), "the value for a member"); }
      return total;
    },
    any: function (collection, condition) {
      var list = rows(collection);
      for (var i = 0; i < list.length; i++) { if (t(condition(getter(list[i])))) { return true; } }
      return false;
    },
    all: function (collection, condition) {
      var list = rows(collection);
      for (var i = 0; i < list.length; i++) { if (!t(condition(getter(list[i])))) { return false; } }
      return true;
    },
    fn: {
      age: function (born, at) {
        return yearsBetween(day(born, "the date of birth"), arguments.length > 1 ? day(at) : R.today());
      },
      today: function () { return R.today(); },
      years_between: yearsBetween,
      months_between: monthsBetween,
      days_between: function (start, end) {
        day(start, "the first date"); day(end, "the second date");
        return Math.round((end.getTime() - start.getTime()) / MS_PER_DAY);
      },
      date: function (text) { return R.date(need(text, "the date text")); },
      add_days: addDays,
      add_months: addMonths,
      add_years: function (d, n) { return addMonths(d, 12 * trunc(num(n, "the number of years"))); },
      year: function (d) { return day(d).getUTCFullYear(); },
      month: function (d) { return day(d).getUTCMonth() + 1; },
      min: function () {
        var best = null;
        for (var i = 0; i < arguments.length; i++) {
          need(arguments[i], "a value");
          if (best === null || order(arguments[i], best) < 0) { best = arguments[i]; }
        }
        return best;
      },
      max: function () {
        var best = null;
        for (var i = 0; i < arguments.length; i++) {
          need(arguments[i], "a value");
          if (best === null || order(arguments[i], best) > 0) { best = arguments[i]; }
        }
        return best;
      },
      round: roundHalfUp,
      floor: function (x) { return Math.floor(num(x)); },
      ceil: function (x) { return Math.ceil(num(x)); },
      abs: function (x) { return Math.abs(num(x)); },
      present: function (x) { return !isNull(x) && x !== "" && !(Array.isArray(x) && x.length === 0); },
      coalesce: function (x, otherwise) { return R.fn.present(x) ? x : otherwise; }
    }
  };

  var OpenScheme = root.OpenScheme || {};
  OpenScheme.R = R;
  OpenScheme.formulas = OpenScheme.formulas || {};
  var started = [];
  /* formulas.js (generated per scheme) calls this; it may arrive after the page started */
  OpenScheme.register = function (code, hash, formulas) {
    OpenScheme.formulas[code] = formulas;
    for (var i = 0; i < started.length; i++) {
      if (started[i].code === code) { started[i].formulas = formulas; started[i].refresh(); }
    }
  };
  root.OpenScheme = OpenScheme;

  if (typeof module !== "undefined" && module.exports) { module.exports = { R: R, OpenScheme: OpenScheme }; }
  if (typeof document === "undefined") { return; }

  /* ---- the page ------------------------------------------------------------------ */

  function fieldsIn(container, scope) {
    var all = container.querySelectorAll(".os-field[data-field]");
    var out = [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-scope") === scope) { out.push(all[i]); }
    }
    return out;
  }

  function textValue(wrapper) {
    var input = wrapper.querySelector("input, select, textarea");
    if (!input) { return null; }
    var text = input.value.trim();
    return text === "" ? null : text;
  }

  /* A field's value typed like validate_record types it (a bad entry reads as empty). */
  function readValue(wrapper) {
    var type = wrapper.getAttribute("data-type");
    var text, i;
    if (type === "calculate") {
      var out = wrapper.querySelector("[data-value]");
      return out ? decode(out.getAttribute("data-value"), out.getAttribute("data-value-type")) : null;
    }
    if (type === "boolean") {
      var checked = wrapper.querySelector("input[type=radio]:checked, input[type=checkbox]:checked");
      var box = wrapper.querySelector("input[type=checkbox]");
      if (box && !wrapper.querySelector("input[type=radio]")) { return box.checked; }
      return checked ? checked.value === "true" : null;
    }
    if (type === "select_multiple") {
      var values = [];
      var boxes = wrapper.querySelectorAll("input[type=checkbox]:checked");
      for (i = 0; i < boxes.length; i++) { values.push(boxes[i].value); }
      var select = wrapper.querySelector("select[multiple]");
      if (select) {
        for (i = 0; i < select.options.length; i++) { if (select.options[i].selected) { values.push(select.options[i].value); } }
      }
      return values.length ? values : null;
    }
    if (type === "gps") {
      var lat = wrapper.querySelector("[data-gps=lat]"), lon = wrapper.querySelector("[data-gps=lon]");
      if (!lat || !lon || lat.value.trim() === "" || lon.value.trim() === "") { return null; }
      var a = Number(lat.value.trim()), b = Number(lon.value.trim());
      return isFinite(a) && isFinite(b) ? { lat: a, lon: b } : null;
    }
    text = textValue(wrapper);
    if (text === null) { return null; }
    if (type === "integer" || type === "decimal" || type === "money") {
      var n = Number(text.replace(/\s+/g, ""));
      return isFinite(n) ? n : null;
    }
    if (type === "date") { return parseDate(text.slice(0, 10)); }
    return text;
  }

  function decode(text, type) {
    if (text === null || text === "") { return null; }
    if (type === "number") { var n = Number(text); return isFinite(n) ? n : null; }
    if (type === "date") { return parseDate(text); }
    if (type === "yes/no") { return text === "true"; }
    return text;
  }

  function show(value) {
    if (isNull(value)) { return ""; }
    if (isDate(value)) { return value.toISOString().slice(0, 10); }
    if (typeof value === "number") { return String(Math.round(value * 100) / 100); }
    if (typeof value === "boolean") { return value ? "\u2713" : "\u2717"; }
    if (Array.isArray(value)) { return value.join(", "); }
    return String(value);
  }

  function getterOf(context) {
    return function (name) { var x = context[name]; return x === undefined ? null : x; };
  }

  /* Run one formula: {ok: true, value} or {ok: false} when absent or failing. */
  function run(code, context) {
    if (typeof code !== "function") { return { ok: false }; }
    try { return { ok: true, value: code(getterOf(context), R) }; } catch (e) { return { ok: false }; }
  }

  function Form(element) {
    this.el = element;
    this.code = element.getAttribute("data-scheme");
    this.formulas = OpenScheme.formulas[this.code] || {};
    this.pending = false;
  }

  Form.prototype.formula = function (name, kind) {
    var entry = this.formulas[name];
    return entry ? entry[kind] : undefined;
  };

  /* Calculations first, then relevance in declaration order, as validate_record does. */
  Form.prototype.apply = function (wrappers, context) {
    var i, name, result;
    for (i = 0; i < wrappers.length; i++) {
      name = wrappers[i].getAttribute("data-field");
      if (wrappers[i].getAttribute("data-type") !== "calculate") { continue; }
      result = run(this.formula(name, "calculate"), context);
      var out = wrappers[i].querySelector("output");
      if (result.ok) {
        context[name] = result.value;
        if (out) { out.textContent = show(result.value); }
      }
    }
    for (i = 0; i < wrappers.length; i++) {
      name = wrappers[i].getAttribute("data-field");
      if (!wrappers[i].hasAttribute("data-relevant")) { continue; }
      result = run(this.formula(name, "relevant"), context);
      var hide = result.ok && !t(result.value); // unknown: shown, the server decides
      wrappers[i].hidden = hide;
      if (hide) { context[name] = null; }
    }
  };

  Form.prototype.refresh = function () {
    this.pending = false;
    var el = this.el, i, j, unit = {}, wrappers = fieldsIn(el, "unit");
    for (i = 0; i < wrappers.length; i++) { unit[wrappers[i].getAttribute("data-field")] = readValue(wrappers[i]); }
    var rowEls = el.querySelectorAll("[data-member-rows] > [data-member-row]");
    var members = [], memberWrappers = [];
    for (i = 0; i < rowEls.length; i++) {
      var ws = fieldsIn(rowEls[i], "member"), values = {};
      for (j = 0; j < ws.length; j++) { values[ws[j].getAttribute("data-field")] = readValue(ws[j]); }
      members.push(values);
      memberWrappers.push(ws);
    }
    unit.members = members;
    this.apply(wrappers, unit);
    for (i = 0; i < members.length; i++) {
      var context = {}, key;
      for (key in unit) { if (Object.prototype.hasOwnProperty.call(unit, key)) { context[key] = unit[key]; } }
      for (key in members[i]) { if (Object.prototype.hasOwnProperty.call(members[i], key)) { context[key] = members[i][key]; } }
      this.apply(memberWrappers[i], context);
      for (key in members[i]) { if (Object.prototype.hasOwnProperty.call(members[i], key)) { members[i][key] = context[key]; } }
    }
    this.cascade();
    this.updateRows();
  };

  Form.prototype.schedule = function () {
    if (this.pending) { return; }
    this.pending = true;
    var self = this;
    setTimeout(function () { self.refresh(); }, 0);
  };

  /* A field of the row (member fields), else of the unit. */
  Form.prototype.byName = function (name, scope) {
    var selector = "[name='" + name + "']";
    return scope.querySelector(selector) || this.el.querySelector(selector);
  };

  /* The filter key of a cascading select: the parent's value (column), or the code of the
     nearest chosen place above it (path: a cleared district still narrows wards to the region). */
  Form.prototype.cascadeKey = function (select, scope) {
    var parent = this.byName(select.getAttribute("data-parent-name"), scope);
    if (select.getAttribute("data-cascade") !== "path") { return parent ? parent.value : ""; }
    for (var guard = 0; parent && !parent.value && guard < 10; guard++) {
      var only = parent.querySelectorAll("option:not([value=''])");
      if (only.length === 1) { return only[0].value; } // the only place offered (an officer's own region)
      var above = parent.getAttribute("data-parent-name");
      parent = above && parent.getAttribute("data-cascade") === "path" ? this.byName(above, scope) : null;
    }
    return parent && parent.value ? parent.value : "";
  };

  /* Places inside the chosen higher place, asked from the server (data-children-url); the server
     rendered the options for the page as it came, so nothing is asked until a higher place changes. */
  Form.prototype.loadPlaces = function (select, key) {
    var self = this, blank = select._blank;
    var current = select.value;
    function fill(rows) {
      while (select.options.length) { select.remove(0); }
      if (blank) { select.add(blank); }
      var keep = false;
      for (var i = 0; i < rows.length; i++) {
        var option = document.createElement("option");
        option.value = rows[i].code;
        option.textContent = rows[i].name + " (" + rows[i].code + ")";
        option.setAttribute("data-path", rows[i].path);
        select.add(option);
        if (rows[i].code === current) { keep = true; }
      }
      select.value = keep ? current : "";
      select.removeAttribute("aria-busy");
      self.schedule(); // the places below this one follow
    }
    if (!key) { fill([]); return; }
    select.setAttribute("aria-busy", "true");
    var request = new XMLHttpRequest();
    request.open("GET", select.getAttribute("data-children-url") + "&parent=" + encodeURIComponent(key));
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (select._key !== key) { return; } // another place was chosen meanwhile
      var rows = [];
      try { rows = request.status === 200 ? JSON.parse(request.responseText) : []; } catch (e) { rows = []; }
      fill(rows);
    };
    request.onerror = function () { if (select._key === key) { fill([]); } };
    request.send();
  };

  /* Cascading selects: a child lists only the options of the chosen parent.
     data-cascade="column": option data-filter == parent value (choice_filter);
     data-cascade="path": the places inside the nearest chosen higher place (locations), from the server.
     Selects are visited in page order, so a cleared parent clears its children in one pass. */
  Form.prototype.cascade = function () {
    var selects = this.el.querySelectorAll("select[data-cascade]");
    for (var i = 0; i < selects.length; i++) {
      var select = selects[i];
      var scope = select.closest("[data-member-row]") || this.el;
      var mode = select.getAttribute("data-cascade");
      var key = this.cascadeKey(select, scope);
      if (mode === "path" && select.hasAttribute("data-children-url")) {
        if (select._key === undefined) {
          select._key = key;
          select._blank = select.querySelector("option[value='']");
          continue;
        }
        if (select._key !== key) { select._key = key; this.loadPlaces(select, key); }
        continue;
      }
      if (!select._all) {
        select._all = [];
        for (var k = 0; k < select.options.length; k++) { select._all.push(select.options[k]); }
      }
      if (select._key === key) { continue; }
      select._key = key;
      var current = select.value, keep = false;
      while (select.options.length) { select.remove(0); }
      for (var j = 0; j < select._all.length; j++) {
        var option = select._all[j];
        var ok = option.value === "" || !key || option.getAttribute("data-filter") === key;
        if (ok) { select.add(option); if (option.value === current) { keep = true; } }
      }
      select.value = keep ? current : "";
    }
  };

  /* ---- member rows ---------------------------------------------------------------- */

  Form.prototype.updateRows = function () {
    var box = this.el.querySelector("[data-members]");
    if (!box) { return; }
    var rowEls = box.querySelectorAll("[data-member-rows] > [data-member-row]");
    for (var i = 0; i < rowEls.length; i++) {
      var number = rowEls[i].querySelector("[data-member-number]");
      if (number) { number.textContent = String(i + 1); }
    }
    var add = box.querySelector("[data-add-member]");
    var max = parseInt(box.getAttribute("data-max") || "0", 10);
    if (add) { add.disabled = max > 0 && rowEls.length >= max; }
  };

  Form.prototype.addRow = function () {
    var box = this.el.querySelector("[data-members]");
    var template = box && box.querySelector("template[data-member-template]");
    if (!template) { return; }
    var index = parseInt(box.getAttribute("data-next-index") || "0", 10);
    box.setAttribute("data-next-index", String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__index__/g, String(index));
    var row = holder.firstElementChild;
    box.querySelector("[data-member-rows]").appendChild(row);
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
    this.refresh();
  };

  Form.prototype.removeRow = function (button) {
    var row = button.closest("[data-member-row]");
    if (!row) { return; }
    var next = row.nextElementSibling || row.previousElementSibling;
    row.parentNode.removeChild(row);
    var add = this.el.querySelector("[data-add-member]");
    var focus = next ? next.querySelector("input, select, textarea") : add;
    if (focus) { focus.focus(); }
    this.refresh();
  };

  Form.prototype.locate = function (button) {
    var wrapper = button.closest(".os-field");
    if (!navigator.geolocation || !wrapper) { return; }
    var self = this;
    navigator.geolocation.getCurrentPosition(function (position) {
      wrapper.querySelector("[data-gps=lat]").value = position.coords.latitude.toFixed(6);
      wrapper.querySelector("[data-gps=lon]").value = position.coords.longitude.toFixed(6);
      self.schedule();
    }, function () {}, { enableHighAccuracy: true, timeout: 20000 });
  };

  Form.prototype.start = function () {
    var self = this;
    this.el.addEventListener("input", function () { self.schedule(); });
    this.el.addEventListener("change", function () { self.schedule(); });
    this.el.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest("button") : null;
      if (!target) { return; }
      if (target.hasAttribute("data-add-member")) { event.preventDefault(); self.addRow(); }
      else if (target.hasAttribute("data-remove-member")) { event.preventDefault(); self.removeRow(target); }
      else if (target.hasAttribute("data-locate")) { event.preventDefault(); self.locate(target); }
    });
    var geo = this.el.querySelectorAll("[data-locate]");
    for (var i = 0; i < geo.length; i++) { geo[i].hidden = !navigator.geolocation; }
    var add = this.el.querySelector("[data-add-member]");
    if (add) { add.hidden = false; }
    this.refresh();
    this.el.setAttribute("data-ready", "true");
  };

  function start() {
    var forms = document.querySelectorAll("form[data-os-form]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("data-ready")) { continue; }
      var form = new Form(forms[i]);
      started.push(form);
      form.start();
    }
  }

  OpenScheme.start = start;
  // deferred scripts run before DOMContentLoaded, in order: formulas.js registers first
  if (document.readyState === "complete") { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})(typeof window !== "undefined" ? window : globalThis);
