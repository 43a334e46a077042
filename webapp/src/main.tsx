import { render } from 'solid-js/web';
import { ChatStore } from './client/chat-store';
import { App } from './ui/App';
import './ui/styles.css';

// The gateway serves this page, the API and the WebSocket from one origin.
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const store = new ChatStore({ storage: localStorage, wsUrl });
addEventListener('online', () => store.networkBack());
addEventListener('offline', () => store.networkLost());
// The open room counts as read only while the page is seen: visible and focused.
const attention = () =>
  store.setAttention(document.visibilityState === 'visible' && document.hasFocus());
addEventListener('focus', attention);
addEventListener('blur', attention);
document.addEventListener('visibilitychange', attention);
attention();
store.init();

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app');
render(() => <App store={store} />, root);
