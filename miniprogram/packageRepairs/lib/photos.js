// Photo picking and uploading shared by 报修 (report photos) and 完工 (after-photos): mixed into a
// page's methods. Each picked photo is uploaded at once (POST /repairs/photos, unattached until the
// report references its id) with its own progress; a failed one shows 重试 and 删除.
//
// Page data: photos: [{key, path, status: 'uploading' | 'done' | 'failed', progress, id, error}]
const repairsApi = require('../../api/repairs');
const { pickImages } = require('../../utils/media');

const MAX_PHOTOS = 9;

let nextKey = 0;

const methods = {
  photoIndex(key) {
    return this.data.photos.map(p => p.key).indexOf(key);
  },

  patchPhoto(key, patch) {
    const index = this.photoIndex(key);
    if (index < 0) return;
    const update = {};
    Object.keys(patch).forEach(name => {
      update['photos[' + index + '].' + name] = patch[name];
    });
    this.setData(update);
  },

  onAddPhoto() {
    const room = MAX_PHOTOS - this.data.photos.length;
    if (room <= 0) {
      wx.showToast({ title: '最多上传' + MAX_PHOTOS + '张照片', icon: 'none' });
      return Promise.resolve();
    }
    return pickImages(room).then(paths => {
      const added = paths.slice(0, room).map(path => {
        nextKey += 1;
        return { key: 'p' + nextKey, path, status: 'uploading', progress: 0, id: null, error: '' };
      });
      if (!added.length) return undefined;
      this.setData({ photos: this.data.photos.concat(added) });
      return Promise.all(added.map(photo => this.uploadPhoto(photo.key)));
    });
  },

  uploadPhoto(key) {
    const photo = this.data.photos[this.photoIndex(key)];
    if (!photo) return Promise.resolve();
    this.patchPhoto(key, { status: 'uploading', progress: 0, id: null, error: '' });
    return repairsApi
      .uploadPhoto(photo.path, {
        onProgress: progress => {
          const current = this.data.photos[this.photoIndex(key)];
          if (current && current.status === 'uploading') this.patchPhoto(key, { progress });
        },
      })
      .then(
        uploaded => this.patchPhoto(key, { status: 'done', progress: 100, id: uploaded.id }),
        err => this.patchPhoto(key, { status: 'failed', error: err.message })
      );
  },

  onRetryPhoto(e) {
    return this.uploadPhoto(e.currentTarget.dataset.key);
  },

  onRemovePhoto(e) {
    const key = e.currentTarget.dataset.key;
    this.setData({ photos: this.data.photos.filter(p => p.key !== key) });
  },

  onPreviewPhoto(e) {
    const urls = this.data.photos.map(p => p.path);
    wx.previewImage({ current: e.currentTarget.dataset.path, urls });
  },

  // Uploads every photo again (their earlier ids were used up, e.g. by a linked report).
  reuploadPhotos() {
    return Promise.all(this.data.photos.map(p => this.uploadPhoto(p.key)));
  },

  // '' when every photo is uploaded, else what to tell the user.
  photosProblem() {
    const photos = this.data.photos;
    if (photos.some(p => p.status === 'uploading')) return '照片正在上传，请稍候';
    if (photos.some(p => p.status === 'failed')) return '有照片上传失败，请重试或删除';
    return '';
  },

  // Before a submit: shows the form's errors ({field: message}, page data `errors`) and toasts the
  // first, else toasts what keeps the photos from going (photosProblem). True when all is ready.
  readyToSubmit(errors) {
    this.setData({ errors });
    const problem = errors[Object.keys(errors)[0]] || this.photosProblem();
    if (problem) wx.showToast({ title: problem, icon: 'none' });
    return !problem;
  },

  photoIds() {
    return this.data.photos.filter(p => p.status === 'done').map(p => p.id);
  },
};

module.exports = { MAX_PHOTOS, methods };
