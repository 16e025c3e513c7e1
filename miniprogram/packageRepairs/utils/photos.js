// Photos on a form (report, completion): pick with wx.chooseMedia, upload each at once with its own
// progress, remove, preview. The list lives in page.data[key] as
// [{uid, path, id, progress, uploading, failed}]; `id` is the server's photo id once uploaded.
const repairsApi = require('../../api/repairs');
const { MAX_PHOTOS } = require('../../utils/repairs');

let nextUid = 1;

function choose(count) {
  return new Promise(resolve => {
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sizeType: ['compressed'], // the phone shrinks it first: faster on campus Wi-Fi
      sourceType: ['album', 'camera'],
      success: res => resolve((res.tempFiles || []).map(f => f.tempFilePath)),
      fail: () => resolve([]), // cancelled
    });
  });
}

function indexOf(page, key, uid) {
  return (page.data[key] || []).map(p => p.uid).indexOf(uid);
}

function patch(page, key, uid, fields) {
  const index = indexOf(page, key, uid);
  if (index < 0) return; // removed while uploading
  const update = {};
  Object.keys(fields).forEach(name => {
    update[key + '[' + index + '].' + name] = fields[name];
  });
  page.setData(update);
}

function uploadOne(page, key, path, uploader) {
  const uid = nextUid++;
  page.setData({ [key]: (page.data[key] || []).concat([{ uid, path, id: null, progress: 0, uploading: true, failed: false }]) });
  return uploader(path, percent => patch(page, key, uid, { progress: percent })).then(
    photo => patch(page, key, uid, { id: photo.id, progress: 100, uploading: false }),
    () => patch(page, key, uid, { uploading: false, failed: true })
  );
}

// Resolves once every picked photo finished (or failed) uploading.
function pickAndUpload(page, key, uploader) {
  const room = MAX_PHOTOS - (page.data[key] || []).length;
  if (room <= 0) {
    wx.showToast({ title: '最多' + MAX_PHOTOS + '张照片', icon: 'none' });
    return Promise.resolve();
  }
  const send = uploader || ((path, onProgress) => repairsApi.uploadPhoto(path, onProgress, { silent: true }));
  return choose(room).then(paths => Promise.all(paths.map(path => uploadOne(page, key, path, send))));
}

function remove(page, key, uid) {
  page.setData({ [key]: (page.data[key] || []).filter(p => p.uid !== Number(uid)) });
}

function ids(list) {
  return (list || []).filter(p => p.id).map(p => p.id);
}

function preview(list, current) {
  const urls = (list || []).map(p => p.path || p.url);
  wx.previewImage({ urls, current: current || urls[0] });
}

module.exports = { pickAndUpload, remove, ids, preview };
