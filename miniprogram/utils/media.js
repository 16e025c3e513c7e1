// Picking photos from the album or the camera (wx.chooseMedia, compressed) -> temp file paths; a
// cancelled pick is an empty list. Used by 报修 photos and the canteen's dish photos.
function pickImages(count) {
  return new Promise(resolve => {
    wx.chooseMedia({
      count,
      mediaType: ['image'],
      sizeType: ['compressed'],
      sourceType: ['album', 'camera'],
      success: res => resolve((res.tempFiles || []).map(f => f.tempFilePath)),
      fail: () => resolve([]), // cancelled
    });
  });
}

module.exports = { pickImages };
