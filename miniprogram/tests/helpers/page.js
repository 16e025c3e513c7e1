// Load and render a page or component of this project with miniprogram-simulate.
const fs = require('fs');
const path = require('path');
const simulate = require('miniprogram-simulate');
const simulateUtils = require('miniprogram-simulate/src/utils');
const { flush } = require('./wx');

const ROOT = path.resolve(__dirname, '../..');

// miniprogram-simulate runs a component's .js on every load and relies on deleting it from
// require.cache, which jest's module registry ignores: a second load of the same page (or of a
// component shared by two pages) would not call Component() again. Run the file ourselves, with a
// require that shares this test file's registry, so pages and tests see the same modules.
simulateUtils.runJs = function runJs(filePath) {
  const file = /\.js$/.test(filePath) ? filePath : filePath + '.js';
  const mod = { exports: {} };
  const localRequire = request => require(request.charAt(0) === '.' ? path.resolve(path.dirname(file), request) : request);
  // eslint-disable-next-line no-new-func
  new Function('require', 'module', 'exports', fs.readFileSync(file, 'utf8'))(localRequire, mod, mod.exports);
};

function render(relativePath, properties) {
  const id = simulate.load(path.join(ROOT, relativePath), { rootPath: ROOT, compiler: 'simulate' });
  const comp = simulate.render(id, properties);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

// Visible text of a rendered tree, whitespace collapsed.
function text(comp) {
  return comp.dom.textContent.replace(/\s+/g, ' ').trim();
}

// A page opened as WeChat opens it: onLoad(query), then onShow(), and the requests they made answered.
async function show(relativePath, query) {
  const page = render(relativePath);
  page.instance.onLoad(query);
  await page.instance.onShow();
  await flush();
  return page;
}

// Fire an event on a rendered node (miniprogram-simulate delivers it asynchronously) and wait
// for the handler and the fake network it may use.
async function fire(node, eventName, detail) {
  node.dispatchEvent(eventName || 'tap', { detail: detail || {} });
  await flush();
}

module.exports = { render, show, text, fire, ROOT };
