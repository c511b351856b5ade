// Every name form through fork, name and index --codex, which leave the session's files as they are (test/helpers/name-forms.ts).
import t from 'tap';
import { checkActions } from './helpers/name-forms.js';

checkActions(t, ['fork', 'name', 'index --codex']);
