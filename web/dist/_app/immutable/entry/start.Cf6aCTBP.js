import{s as r}from"../chunks/D7M2IzIV.js";import{y as t}from"../chunks/D7JDz49O.js";export{t as load_css,r as start};
