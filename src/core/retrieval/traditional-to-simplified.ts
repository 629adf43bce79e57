/**
 * Traditional → Simplified characters common in support questions, so that a question written in
 * Traditional Chinese finds entries written in Simplified. Pairs are listed as "TraditionalSimplified".
 */
const PAIRS =
  '帳账號号證证碼码錢钱幣币現现儲储驗验資资產产凍冻結结轉转網网絡络鏈链額额費费時时間间記记錄录錯错誤误' +
  '請请問问題题應应戶户認认設设兩两為为麼么還还沒没處处對对會会個个們们這这來来過过嗎吗說说話话開开關关' +
  '機机寶宝買买賣卖單单與与從从後后發发絕绝騙骗詐诈盜盗險险審审實实際际標标籤签備备註注冊册傳传圖图點点' +
  '擊击鍵键鑰钥匯汇換换價价級级別别書书護护銀银綁绑態态狀状紀纪歷历導导幫帮聯联繫系係系務务線线營营業业' +
  '週周邊边長长終终難难遺遗舊旧訊讯簡简體体電电郵邮雙双異异動动項项確确無无權权變变舉举據据實实類类' +
  '認认讓让達达運运邏逻輯辑慮虑態态們们歡欢員员給给麗丽門门樣样頁页顯显示示鐘钟爭争幾几數数據据區区' +
  '聽听見见覺觉觀观親亲視视計计討讨訂订議议記记許许論论證证識识譯译讀读調调談谈謝谢貨货貼贴財财購购' +
  '賬账贖赎贈赠趙赵車车軟软載载輸输辦办選选遞递適适鎖锁鏡镜長长門门閉闭閱阅隊队陽阳陰阴際际隱隐雖虽' +
  '離离雲云電电靈灵頂顶順顺須须預预領领頻频額额風风飛飞餘余館馆驅驱驗验體体髮发鬆松魚鱼鳥鸟麥麦黃黄' +
  '齊齐齒齿龍龙龜龟萬万與与專专業业東东絲丝兩两嚴严豐丰臨临為为麗丽舉举義义烏乌樂乐喬乔習习鄉乡書书' +
  '買买亂乱爭争於于虧亏雲云亞亚產产畝亩親亲億亿僅仅從从侖仑倉仓儀仪們们價价眾众優优會会傘伞偉伟傳传' +
  '裡里裏里臺台灣湾啟启傷伤倫伦偽伪佇伫體体餘余傭佣僉佥俠侠侶侣僥侥偵侦側侧僑侨儈侩儕侪儂侬俁俣係系';

const MAP = new Map<string, string>();
for (let i = 0; i + 1 < PAIRS.length; i += 2) {
  const from = PAIRS[i];
  const to = PAIRS[i + 1];
  if (from && to && from !== to) MAP.set(from, to);
}

/** Maps Traditional Chinese characters to Simplified ones; leaves everything else as it is. */
export function toSimplified(text: string): string {
  let out = '';
  for (const ch of text) out += MAP.get(ch) ?? ch;
  return out;
}
